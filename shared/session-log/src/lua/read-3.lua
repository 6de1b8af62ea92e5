--[[
  Read a session's log from an offset, bounded by count and bytes, atomically with the
  session's epoch, head and first retained offset.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] runId   ARGV[2] durable   ARGV[3] candidate epoch   ARGV[4] live channel
  ARGV[5] from (first offset wanted)   ARGV[6] max count (>= 1)   ARGV[7] max bytes of data

  Entries start at max(from, firstAvailable); the caller sees from < firstAvailable as
  "trimmed" and must say so, never hide the gap. At least one entry is returned when any
  is available, whatever its size.

  A completed session's log ends with the completion entry at final + 1 (see lib.lua); reads
  stop at head (= final), so it is never returned as data, and `final` tells the reader
  the end has come (-1 while the session is open; 0 is a session completed empty).

  Returns {HF_OK, epoch, epochRotated, head, firstAvailable, final, offset1, data1, offset2, data2, ...}
          or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local m = redis.call('HMGET', metaKey, 'epoch', 'head', 'runId', 'durable', 'final')
if not m[1] then return hf_missing(tombKey) end
local head = tonumber(m[2])
local epoch, rotated = hf_check_epoch(metaKey, ARGV[4], m[1], head, m[3], m[4], ARGV[1], ARGV[2], ARGV[3])

local firstAvailable = hf_first_available(logKey, head)
local from = math.max(tonumber(ARGV[5]), firstAvailable)
local reply = {HF_OK, epoch, rotated and 1 or 0, head, firstAvailable, tonumber(m[5] or -1)}
if from > head then return reply end

local maxBytes = tonumber(ARGV[7])
local bytes = 0
local entries = redis.call('XRANGE', logKey, from .. '-0', head .. '-0', 'COUNT', tonumber(ARGV[6]))
for _, entry in ipairs(entries) do
  local data = entry[2][2]
  bytes = bytes + #data
  if bytes > maxBytes and #reply > 6 then break end
  reply[#reply + 1] = hf_offset_of(entry[1])
  reply[#reply + 1] = data
end
return reply
