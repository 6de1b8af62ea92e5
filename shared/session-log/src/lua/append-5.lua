--[[
  Append messages to a session's log: the whole append path in one atomic step.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb   KEYS[4] dedupe hash "a"   KEYS[5] dedupe hash "b"
  ARGV[1] runId   ARGV[2] durable ("1"/"0")   ARGV[3] candidate epoch   ARGV[4] live channel
  ARGV[5] dedupeWindowMs   ARGV[6] tombTtlMs
  ARGV[7..] pairs of (message id or "", data as JSON text), in order

  For each message with an id seen in the dedupe window, nothing is written and the original
  offset is returned. Every other message gets the next offset (head + 1) as its stream id
  "<offset>-0", so offsets are contiguous, never reused, and XRANGE can seek by offset.
  Each XADD trims to the session's max length itself; age retention and the idle expiry
  refresh run at most once per housekeeping interval (lib.lua), so a one-message append costs
  five commands: HMGET, TIME, XADD, HSET, and one SPUBLISH on the live channel carrying the
  new entries, so live delivery needs no read.

  Returns {HF_OK, epoch, epochRotated (0/1), offset1, duplicate1 (0/1), offset2, duplicate2, ...}
          or {HF_NOT_FOUND} / {HF_ENDED, reason} / {HF_COMPLETED, final} (see lib.lua).
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local runId, durableNow, candidate, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local dedupeWindowMs, tombTtlMs = tonumber(ARGV[5]), tonumber(ARGV[6])

local m = redis.call('HMGET', metaKey,
  'epoch', 'head', 'runId', 'durable', 'maxLen', 'maxAgeMs', 'idleTtlMs', 'idsCur', 'idsSince', 'active', 'final')
if not m[1] then return hf_missing(tombKey) end
-- Completion is an entry at the end of the log; nothing may land after it.
if m[11] then return {HF_COMPLETED, tonumber(m[11])} end
local head = tonumber(m[2])
local epoch, rotated = hf_check_epoch(metaKey, channel, m[1], head, m[3], m[4], runId, durableNow, candidate)
local now = hf_now_ms()
local maxLen, idleTtlMs = tonumber(m[5]), tonumber(m[7])
local due = hf_housekeeping_due(m[10], now, idleTtlMs)

-- XADD trimming to maxLen in the same command (exact, so retention is what was configured).
local function xadd(entryId, data, msgId)
  if maxLen > 0 then
    if msgId then return redis.call('XADD', logKey, 'MAXLEN', maxLen, entryId, 'd', data, 't', now, 'i', msgId) end
    return redis.call('XADD', logKey, 'MAXLEN', maxLen, entryId, 'd', data, 't', now)
  end
  if msgId then return redis.call('XADD', logKey, entryId, 'd', data, 't', now, 'i', msgId) end
  return redis.call('XADD', logKey, entryId, 'd', data, 't', now)
end

local curIds, oldIds = hf_id_hashes(metaKey, KEYS[4], KEYS[5], m[8], tonumber(m[9]), now, dedupeWindowMs)

local reply = {HF_OK, epoch, rotated and 1 or 0}
local firstNew = head + 1
local added = {}
local wroteIds = false
for i = 7, #ARGV, 2 do
  local id, data = ARGV[i], ARGV[i + 1]
  local existing = false
  if id ~= '' then
    existing = redis.call('HGET', curIds, id) or redis.call('HGET', oldIds, id)
  end
  if existing then
    reply[#reply + 1] = tonumber(existing)
    reply[#reply + 1] = 1
  else
    head = head + 1
    if id ~= '' then
      xadd(head .. '-0', data, id)
      redis.call('HSET', curIds, id, head)
      wroteIds = true
    else
      xadd(head .. '-0', data, nil)
    end
    added[#added + 1] = data
    reply[#reply + 1] = head
    reply[#reply + 1] = 0
  end
end

if #added > 0 then
  if due then
    redis.call('HSET', metaKey, 'head', head, 'active', now)
    hf_trim_by_age(logKey, tonumber(m[6]), now)
  else
    redis.call('HSET', metaKey, 'head', head)
  end
  redis.call('SPUBLISH', channel, '{"e":"' .. epoch .. '","o":' .. firstNew .. ',"n":' .. #added ..
    ',"t":' .. now .. ',"d":[' .. table.concat(added, ',') .. ']}')
elseif due then
  redis.call('HSET', metaKey, 'active', now)
end
if wroteIds then redis.call('PEXPIRE', curIds, hf_ids_ttl(dedupeWindowMs, idleTtlMs)) end
if due then hf_refresh_expiry(metaKey, logKey, tombKey, idleTtlMs, tombTtlMs) end
return reply
