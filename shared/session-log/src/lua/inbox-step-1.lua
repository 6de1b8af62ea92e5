--[[
  Progress of the message a drain is handling.

  KEYS[1] inbox state hash
  ARGV[1] generation of the drain   ARGV[2] seq of the message   ARGV[4] the run's token
  ARGV[3] "publish" (about to publish: count it, so a later attempt knows this one left
          output behind) or "done" (handled, or dead-lettered: the next message may start)

  Returns {1} or {-7} when this run is stale (another generation is scheduled, the message is
  no longer the current one, or another run owns it): the caller must stop without publishing.
]]
local stateKey = KEYS[1]
local s = redis.call('HMGET', stateKey, 'sched', 'cur', 'owner')
if s[1] ~= ARGV[1] or s[2] ~= ARGV[2] or s[3] ~= ARGV[4] then return {-7} end
if ARGV[3] == 'publish' then
  redis.call('HINCRBY', stateKey, 'published', 1)
else
  redis.call('HSET', stateKey, 'done', ARGV[2], 'cur', 0, 'attempt', 0, 'published', 0)
end
return {1}
