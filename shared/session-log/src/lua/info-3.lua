--[[
  A session's metadata, consistent with its epoch rule and retention.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] runId   ARGV[2] durable   ARGV[3] candidate epoch   ARGV[4] live channel

  `length` counts messages only: a completed session's completion entry is not one.

  Returns {HF_OK, epochRotated, firstAvailable, length, nowMs, field1, value1, field2, value2, ...}
          (the meta hash after the epoch check; nowMs is Redis time, to read the `seen:`
          presence fields against) or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local m = redis.call('HMGET', metaKey, 'epoch', 'head', 'runId', 'durable')
if not m[1] then return hf_missing(tombKey) end
local _, rotated = hf_check_epoch(metaKey, ARGV[4], m[1], m[2], m[3], m[4], ARGV[1], ARGV[2], ARGV[3])
local length = redis.call('XLEN', logKey)
local final = redis.call('HGET', metaKey, 'final')
if final then
  local marker = (tonumber(final) + 1) .. '-0'
  length = length - #redis.call('XRANGE', logKey, marker, marker)
end
local reply = {HF_OK, rotated and 1 or 0, hf_first_available(logKey, m[2]), length, hf_now_ms()}
local all = redis.call('HGETALL', metaKey)
for i = 1, #all do reply[#reply + 1] = all[i] end
return reply
