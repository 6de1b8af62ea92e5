--[[
  Append messages to many sessions of one partition in one atomic step: the whole append path
  of each session, one call per partition per group-commit flush (group-commit.ts). Every key
  of a call carries the partition's hash tag (keys.ts), so on a cluster a call is one slot.

  KEYS, 5 per session i:  meta, log, tomb, dedupe hash "a", dedupe hash "b"
  ARGV[1] runId   ARGV[2] durable ("1"/"0")   ARGV[3] dedupeWindowMs   ARGV[4] tombTtlMs
  then per session, in KEYS order: candidate epoch, live channel, n (its messages), and n pairs
  of (message id or "", data as JSON text), in order

  For each message with an id seen in the dedupe window, nothing is written and the original
  offset is returned. Every other message gets the next offset (head + 1) as its stream id
  "<offset>-0", so offsets are contiguous, never reused, and XRANGE can seek by offset.
  Each XADD trims to the session's max length itself; age retention and the idle expiry
  refresh run at most once per housekeeping interval (lib.lua). Redis time is read once per
  call, so a one-message append costs four commands of its session (HMGET, XADD, HSET head,
  one SPUBLISH on the live channel carrying the new entries, so live delivery needs no read)
  plus its share of the call's TIME. The epoch rule (hf_check_epoch) applies per session.

  A session's failure (a Redis error inside its part) is caught and answered as that session's
  error; the other sessions of the call are unaffected, as when each had its own call.

  Returns {HF_OK, reply1, reply2, ...}, one per session in KEYS order, each
          {HF_OK, epoch, epochRotated (0/1), offset1, duplicate1 (0/1), offset2, duplicate2, ...}
          or {HF_NOT_FOUND} / {HF_ENDED, reason} / {HF_COMPLETED, final} (see lib.lua)
          or an error reply.
]]
local runId, durableNow = ARGV[1], ARGV[2]
local dedupeWindowMs, tombTtlMs = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = hf_now_ms()

-- One session's part: its keys start at KEYS[k], its messages are ARGV[first .. first + 2n - 1].
local function append_session(k, candidate, channel, first, n)
  local metaKey, logKey, tombKey = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local m = redis.call('HMGET', metaKey,
    'epoch', 'head', 'runId', 'durable', 'maxLen', 'maxAgeMs', 'idleTtlMs', 'idsCur', 'idsSince', 'active', 'final')
  if not m[1] then return hf_missing(tombKey) end
  -- Completion is an entry at the end of the log; nothing may land after it.
  if m[11] then return {HF_COMPLETED, tonumber(m[11])} end
  local head = tonumber(m[2])
  local epoch, rotated = hf_check_epoch(metaKey, channel, m[1], head, m[3], m[4], runId, durableNow, candidate)
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

  local curIds, oldIds = hf_id_hashes(metaKey, KEYS[k + 3], KEYS[k + 4], m[8], tonumber(m[9]), now, dedupeWindowMs)

  local reply = {HF_OK, epoch, rotated and 1 or 0}
  local firstNew = head + 1
  local added = {}
  local wroteIds = false
  for i = first, first + 2 * n - 1, 2 do
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
end

local replies = {HF_OK}
local a = 5
for k = 1, #KEYS, 5 do
  local n = tonumber(ARGV[a + 2])
  replies[#replies + 1] = hf_part(append_session, k, ARGV[a], ARGV[a + 1], a + 3, n)
  a = a + 3 + 2 * n
end
return replies
