--[[
  Renew or release a connection's consumer lease, and keep the consumer's presence current
  (`seen:<consumer>` = until when the consumer counts as connected, in Redis time).

  KEYS[1] meta   KEYS[2] tomb
  ARGV[1] consumer id   ARGV[2] the connection's lease generation
  ARGV[3] "renew" or "release"   ARGV[4] lease ms (renew: presence lasts this long)

  Returns {1, currentGeneration}: the lease is still held when it equals ARGV[2]; a renew or
  release by an older connection changes nothing. Or {-1} / {-2, reason}.
]]
local metaKey = KEYS[1]
local consumer = ARGV[1]
local m = redis.call('HMGET', metaKey, 'epoch', 'lease:' .. consumer)
if not m[1] then return hf_missing(KEYS[2]) end
local current = tonumber(m[2] or '0')
if current == tonumber(ARGV[2]) then
  if ARGV[3] == 'renew' then
    redis.call('HSET', metaKey, 'seen:' .. consumer, hf_now_ms() + tonumber(ARGV[4]))
  else
    redis.call('HDEL', metaKey, 'seen:' .. consumer)
  end
end
return {1, current}
