--[[
  A new connection of a consumer takes its lease: the generation goes up by one, so every
  older connection of that consumer is fenced (its acks are refused, its edge stops
  delivering). Counts as activity for idle expiry. The fencing protocol, end to end, is
  explained in consumer-leases-redis.ts.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] consumer id   ARGV[2] holder (the new connection's id)   ARGV[3] tombTtlMs
  ARGV[4] lease ms: the consumer counts as connected until then unless renewed (see lease-3.lua)

  Returns {HF_OK, generation, previousHolder or ""} or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local consumer = ARGV[1]
local m = redis.call('HMGET', metaKey, 'idleTtlMs', 'holder:' .. consumer)
if not m[1] then return hf_missing(tombKey) end
local generation = redis.call('HINCRBY', metaKey, 'lease:' .. consumer, 1)
local now = hf_now_ms()
redis.call('HSET', metaKey, 'holder:' .. consumer, ARGV[2], 'seen:' .. consumer, now + tonumber(ARGV[4]))
hf_touch(metaKey, logKey, tombKey, tonumber(m[1]), tonumber(ARGV[3]), now)
return {HF_OK, generation, m[2] or ''}
