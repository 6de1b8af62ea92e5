--[[
  Append messages to a session's log: the whole append path in one atomic step.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb   KEYS[4] dedupe hash "a"   KEYS[5] dedupe hash "b"
  ARGV[1] runId   ARGV[2] durable ("1"/"0")   ARGV[3] candidate epoch   ARGV[4] live channel
  ARGV[5] dedupeWindowMs   ARGV[6] tombTtlMs
  ARGV[7..] pairs of (message id or "", data as JSON text), in order

  For each message with an id seen in the dedupe window, nothing is written and the original
  offset is returned. Every other message gets the next offset (head + 1) as its stream id
  "<offset>-0", so offsets are contiguous, never reused, and XRANGE can seek by offset.
  Then: retention (max length, max age), idle expiry refresh, and one SPUBLISH on the live
  channel carrying the new entries, so live delivery needs no read.

  Returns {1, epoch, epochRotated (0/1), offset1, duplicate1 (0/1), offset2, duplicate2, ...}
          or {-1} / {-2, reason} (see lib.lua).
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local runId, durableNow, candidate, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local dedupeWindowMs, tombTtlMs = tonumber(ARGV[5]), tonumber(ARGV[6])

local m = redis.call('HMGET', metaKey,
  'epoch', 'head', 'runId', 'durable', 'maxLen', 'maxAgeMs', 'idleTtlMs', 'idsCur', 'idsSince')
if not m[1] then return hf_missing(tombKey) end
local head = tonumber(m[2])
local epoch, rotated = hf_check_epoch(metaKey, channel, m[1], head, m[3], m[4], runId, durableNow, candidate)
local now = hf_now_ms()

local curIds, oldIds = hf_id_hashes(metaKey, KEYS[4], KEYS[5], m[8], tonumber(m[9]), now, dedupeWindowMs)

local reply = {1, epoch, rotated and 1 or 0}
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
      redis.call('XADD', logKey, head .. '-0', 'd', data, 't', now, 'i', id)
      redis.call('HSET', curIds, id, head)
      wroteIds = true
    else
      redis.call('XADD', logKey, head .. '-0', 'd', data, 't', now)
    end
    added[#added + 1] = data
    reply[#reply + 1] = head
    reply[#reply + 1] = 0
  end
end

if #added > 0 then
  redis.call('HSET', metaKey, 'head', head)
  local maxLen = tonumber(m[5])
  if maxLen > 0 then redis.call('XTRIM', logKey, 'MAXLEN', maxLen) end
  hf_trim_by_age(logKey, tonumber(m[6]), now)
  redis.call('SPUBLISH', channel, '{"e":"' .. epoch .. '","o":' .. firstNew .. ',"n":' .. #added ..
    ',"d":[' .. table.concat(added, ',') .. ']}')
end
if wroteIds then redis.call('PEXPIRE', curIds, hf_ids_ttl(dedupeWindowMs, tonumber(m[7]))) end
hf_touch(metaKey, logKey, tombKey, tonumber(m[7]), tombTtlMs, now)
return reply
