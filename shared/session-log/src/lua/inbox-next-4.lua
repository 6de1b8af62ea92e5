--[[
  A run of the open inbox round (see inbox-enqueue-7.lua) takes its next message, or the round
  ends when there is none.

  KEYS[1] meta   KEYS[2] tomb   KEYS[3] inbox stream   KEYS[4] inbox state hash
  ARGV[1] the round the asking run belongs to   ARGV[2] the asking run's unique token: a run
          that takes a message becomes its owner, fencing any other run of the same round
          (BullMQ may run a job twice when it wrongly thinks a worker died)

  Returns {HF_OK, seq, messageId, data, consumerId, attempt, previousAttemptPublished}
            the message to handle now; attempt counts every start of this message, including
            starts by a run that died mid-message (a worker crash), so a restart is visible
          {HF_IDLE} nothing left: the round is over (the next enqueue opens a new one)
          {HF_STALE} this round is not the open one (a stale duplicate): stop
          {HF_NOT_FOUND} / {HF_ENDED, reason}: the session is gone; the round is over
]]
local metaKey, tombKey, inKey, stateKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', metaKey) == 0 then return hf_missing(tombKey) end
local s = redis.call('HMGET', stateKey, 'sched', 'seq', 'done', 'cur', 'attempt', 'published')
if s[1] ~= ARGV[1] then return {HF_STALE} end
local nextSeq = tonumber(s[3] or '0') + 1
local lastSeq = tonumber(s[2] or '0')
local entry = {}
while nextSeq <= lastSeq do
  entry = redis.call('XRANGE', inKey, nextSeq .. '-0', nextSeq .. '-0')
  if #entry > 0 then break end
  -- Gone from the inbox (expired with it): skip rather than stall the session.
  redis.call('HSET', stateKey, 'done', nextSeq)
  nextSeq = nextSeq + 1
end
if nextSeq > lastSeq then
  redis.call('HSET', stateKey, 'sched', 0)
  return {HF_IDLE}
end
local attempt, published = 1, 0
if tonumber(s[4] or '0') == nextSeq then
  attempt = tonumber(s[5] or '0') + 1
  published = tonumber(s[6] or '0')
end
redis.call('HSET', stateKey, 'cur', nextSeq, 'attempt', attempt, 'published', 0, 'owner', ARGV[2])
local f = entry[1][2]
return {HF_OK, nextSeq, f[2], f[4], f[6], attempt, published}
