--[[
  Progress of the message a run of the open inbox round is handling.

  KEYS[1] inbox state hash   KEYS[2] meta
  ARGV[1] runId   ARGV[2] durable   ARGV[3] candidate epoch   ARGV[4] live channel
  ARGV[5] the run's round   ARGV[6] seq of the message   ARGV[8] the run's token
  ARGV[7] "publish" (about to publish: count it, so a later attempt knows this one left
          output behind) or "done" (handled, or dead-lettered: the next message may start)
  ARGV[9] the epoch this attempt's earlier output was appended in, or "" when it has none yet

  Returns {HF_OK}, or {HF_STALE} when this run is stale (another round is open, the message is no
  longer the current one, or another run owns it): the caller must stop without publishing.
  Or {HF_EPOCH_MISMATCH, currentEpoch} when the session's epoch is no longer the one this
  attempt's output went to: Redis lost data since (a restore, a cut AOF, a failover), possibly
  that output, while the restored inbox still names this run as the message's owner. Marking the
  message done would settle it with its reply gone; the run takes it again as a new attempt.
  The epoch rule is applied first (lib.lua), so a change of process is seen even before any
  other script touched the session.
]]
local stateKey, metaKey = KEYS[1], KEYS[2]
local s = redis.call('HMGET', stateKey, 'sched', 'cur', 'owner')
if s[1] ~= ARGV[5] or s[2] ~= ARGV[6] or s[3] ~= ARGV[8] then return {HF_STALE} end
if ARGV[9] ~= '' then
  local m = redis.call('HMGET', metaKey, 'epoch', 'head', 'runId', 'durable')
  -- The session is gone (deleted): nothing can be published or answered any more.
  if not m[1] then return {HF_STALE} end
  local epoch = hf_check_epoch(metaKey, ARGV[4], m[1], tonumber(m[2]), m[3], m[4], ARGV[1], ARGV[2], ARGV[3])
  if epoch ~= ARGV[9] then return {HF_EPOCH_MISMATCH, epoch} end
end
if ARGV[7] == 'publish' then
  redis.call('HINCRBY', stateKey, 'published', 1)
else
  redis.call('HSET', stateKey, 'done', ARGV[6], 'cur', 0, 'attempt', 0, 'published', 0)
end
return {HF_OK}
