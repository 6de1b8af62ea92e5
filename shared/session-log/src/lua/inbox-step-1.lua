--[[
  Progress of the message a run of the open inbox round is handling.

  KEYS[1] inbox state hash
  ARGV[1] the run's round   ARGV[2] seq of the message   ARGV[4] the run's token
  ARGV[3] "publish" (about to publish: count it, so a later attempt knows this one left
          output behind) or "done" (handled, or dead-lettered: the next message may start)

  Returns {HF_OK} or {HF_STALE} when this run is stale (another round is open, the message is no
  longer the current one, or another run owns it): the caller must stop without publishing.
]]
local stateKey = KEYS[1]
local s = redis.call('HMGET', stateKey, 'sched', 'cur', 'owner')
if s[1] ~= ARGV[1] or s[2] ~= ARGV[2] or s[3] ~= ARGV[4] then return {HF_STALE} end
if ARGV[3] == 'publish' then
  redis.call('HINCRBY', stateKey, 'published', 1)
else
  redis.call('HSET', stateKey, 'done', ARGV[2], 'cur', 0, 'attempt', 0, 'published', 0)
end
return {HF_OK}
