--[[
  Consumer lease claims of many connections in one call: the connections an edge accepts in
  one event-loop turn (a resume storm is a thousand at once). Each is claimed by
  lib-session.lua hf_claim, in the order given, so claims of one session keep
  the edge's order. The number of keys varies (3 per claim); on a cluster every key of one call
  must share a slot, so the caller (consumer-leases-redis.ts) then puts claims of one
  partition in a call.

  KEYS[3i-2] meta   KEYS[3i-1] log   KEYS[3i] tomb   of claim i
  ARGV[1] tombTtlMs
  ARGV[5i-3] consumer id of claim i   ARGV[5i-2] holder   ARGV[5i-1] lease ms
  ARGV[5i] client instance id or ""   ARGV[5i+1] attempt number or ""

  Returns {HF_OK, reply1, reply2, ...}: each as hf_claim answers, or the error a failed
  command raised.
]]
local tombTtlMs = tonumber(ARGV[1])
local reply = {HF_OK}
for i = 1, #KEYS / 3 do
  local a = 5 * i - 3
  reply[i + 1] = hf_part(hf_claim, KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[a], ARGV[a + 1], tombTtlMs, tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4])
end
return reply
