--[[
  Renew or release a connection's consumer lease, and keep the consumer's presence current
  (`seen:<consumer>` = until when the consumer counts as connected, in Redis time). An open
  connection is activity: a renewal refreshes the idle expiry when due (lib.lua), so a session
  whose client stays connected without traffic does not expire under it. The fencing protocol
  is explained in consumer-leases-redis.ts; lease-status.ts reads this script's answer.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] consumer id   ARGV[2] the connection's lease generation
  ARGV[3] "renew" or "release"   ARGV[4] lease ms (renew: presence lasts this long)
  ARGV[5] tombTtlMs

  Returns {HF_OK, currentGeneration}: the lease is still held when it equals ARGV[2]; a renew or
  release by an older connection changes nothing. Or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local consumer, generation = ARGV[1], tonumber(ARGV[2])
if ARGV[3] == 'renew' then
  local current = hf_renew_lease(metaKey, logKey, tombKey, consumer, generation, tonumber(ARGV[4]), tonumber(ARGV[5]), hf_now_ms())
  if current == nil then return hf_missing(tombKey) end
  return {HF_OK, current}
end
local m = redis.call('HMGET', metaKey, 'epoch', 'lease:' .. consumer)
if not m[1] then return hf_missing(tombKey) end
local current = tonumber(m[2] or '0')
if current == generation then redis.call('HDEL', metaKey, 'seen:' .. consumer) end
return {HF_OK, current}
