--[[
  Renew many connections' consumer leases in one call: an edge's periodic renewal, so the Redis
  work of idle connections grows with edges, not connections. Each lease is renewed exactly as
  lease-3.lua renews one (lib.lua hf_renew_lease), so fencing is unchanged. The number of keys
  varies (3 per lease); on a cluster every key of one call must share a slot, so the caller
  (consumer-leases-redis.ts, lease-batches.ts) then puts leases of one partition in a call.

  KEYS[3i-2] meta   KEYS[3i-1] log   KEYS[3i] tomb   of lease i
  ARGV[1] lease ms   ARGV[2] tombTtlMs
  ARGV[1+2i] consumer id of lease i   ARGV[2+2i] its connection's generation

  Returns {HF_OK, g1, g2, ...}: gi is the consumer's current generation (the lease is still held
  when it equals the connection's own), or -1 when the session is gone (ended, expired, lost).
]]
local leaseMs, tombTtlMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = hf_now_ms()
local reply = {HF_OK}
for i = 1, #KEYS / 3 do
  local current = hf_renew_lease(KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[1 + 2 * i], tonumber(ARGV[2 + 2 * i]), leaseMs, tombTtlMs, now)
  reply[i + 1] = current or -1
end
return reply
