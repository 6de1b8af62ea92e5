--[[
  Complete a session: the normal end of a conversation. No more appends, but everything up to
  the end stays readable for the session's completed retention, then expires as usual.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb   KEYS[4] dedupe hash "a"   KEYS[5] dedupe hash "b"
  KEYS[6] inbox   KEYS[7] inbox state   KEYS[8] inbound ids "a"   KEYS[9] inbound ids "b"
  ARGV[1] runId   ARGV[2] durable   ARGV[3] candidate epoch   ARGV[4] live channel
  ARGV[5] completedRetentionMs asked for by this call, or "" (then the session's own, set at
          create, or else ARGV[7], the log's default)   ARGV[6] tombTtlMs   ARGV[7] default

  Atomic with appends: an append either ran before this (its offset <= final) or finds
  `final` set and fails with HF_COMPLETED. Completion is an entry of its own at <final+1>-0
  (fields c = "1", t = now; see lib.lua), so its place is ordered with the messages, and the
  live notification is published after every earlier entry's on the same channel.
  Idempotent: completing a completed session changes nothing and returns the same reply.

  Returns {HF_OK, epoch, final, completedAt, epochRotated} or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local channel = ARGV[4]
local m = redis.call('HMGET', metaKey, 'epoch', 'head', 'runId', 'durable', 'final', 'completed', 'completedTtlMs')
if not m[1] then return hf_missing(tombKey) end
if m[5] then return {HF_OK, m[1], tonumber(m[5]), tonumber(m[6]), 0} end

local head = tonumber(m[2])
local epoch, rotated = hf_check_epoch(metaKey, channel, m[1], head, m[3], m[4], ARGV[1], ARGV[2], ARGV[3])
local now = hf_now_ms()
local retentionMs = tonumber(ARGV[5]) or tonumber(m[7]) or tonumber(ARGV[7])
redis.call('HSET', metaKey, 'final', head, 'completed', now, 'active', now, 'completedTtlMs', retentionMs)
-- No MAXLEN here: trimming a message to make room for the marker would lose data.
redis.call('XADD', logKey, (head + 1) .. '-0', 'c', '1', 't', now)

-- Every key of the session now lives exactly the completed retention; the tombstone (which
-- says "expired" once the session is gone) outlives it as it outlives an idle session.
for i = 1, 9 do
  if i ~= 3 then redis.call('PEXPIRE', KEYS[i], retentionMs) end
end
redis.call('PEXPIRE', tombKey, retentionMs + tonumber(ARGV[6]))

redis.call('SPUBLISH', channel, '{"e":"' .. epoch .. '","final":' .. head .. '}')
return {HF_OK, epoch, head, now, rotated and 1 or 0}
