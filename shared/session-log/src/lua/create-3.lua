--[[
  Create a session and its log.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] new epoch   ARGV[2] runId ("" on a cluster)   ARGV[3] durable ("1"/"0"; a hint on a cluster)
  ARGV[4] maxLen      ARGV[5] maxAgeMs   ARGV[6] idleTtlMs   ARGV[7] tombTtlMs
  ARGV[8] completedRetentionMs of this session, or "" for the log's default at completion

  Returns {HF_OK, epoch, createdMs}
          {HF_EXISTS} when the session exists, {HF_ENDED, reason} when it ended (tombstone present):
          an ended session id is never reused while its tombstone lives.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', metaKey) == 1 then return {HF_EXISTS} end
local reason = redis.call('GET', tombKey)
if reason then return {HF_ENDED, reason} end

local now = hf_now_ms()
local idleTtlMs, tombTtlMs = tonumber(ARGV[6]), tonumber(ARGV[7])
-- On a cluster ARGV[2] is empty and the script reads its own identity (lib.lua hf_identity).
local runId, durable = hf_identity(ARGV[2], ARGV[3])
redis.call('HSET', metaKey,
  'epoch', ARGV[1], 'head', 0, 'runId', runId, 'durable', durable,
  'created', now, 'active', now,
  'maxLen', ARGV[4], 'maxAgeMs', ARGV[5], 'idleTtlMs', idleTtlMs,
  'idsCur', 'a', 'idsSince', now)
-- The tombstone exists for the whole life of the session, saying what a reader should be
-- told if the meta hash ever disappears by idle expiry; endSession rewrites the reason.
redis.call('SET', tombKey, 'expired')
if ARGV[8] ~= '' then redis.call('HSET', metaKey, 'completedTtlMs', ARGV[8]) end
hf_touch(metaKey, logKey, tombKey, idleTtlMs, tombTtlMs, now)
return {HF_OK, ARGV[1], now}
