--[[
  Record a consumer's acknowledged offset: monotonic, never beyond the head, only within the
  current epoch. Also counts as activity (the idle expiry refresh, when due: see lib.lua).

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] runId   ARGV[2] durable   ARGV[3] candidate epoch   ARGV[4] live channel
  ARGV[5] consumer id   ARGV[6] epoch of the ack   ARGV[7] offset   ARGV[8] tombTtlMs
  ARGV[9] lease generation of the acking connection, or "" when the caller holds no lease
          (a producer or the HTTP API acking on a consumer's behalf); the fencing check is
          part of the lease protocol explained in consumer-leases-redis.ts

  Returns {HF_OK, ackedOffset} (the stored value, which an older ack leaves unchanged)
          or {HF_FENCED, generation} when a newer connection of the consumer holds the lease,
          or {HF_EPOCH_MISMATCH, currentEpoch} / {HF_BEYOND_HEAD, head} / {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local ackField = 'ack:' .. ARGV[5]
local m = redis.call('HMGET', metaKey, 'epoch', 'head', 'runId', 'durable', 'idleTtlMs', ackField,
  'lease:' .. ARGV[5], 'active')
if not m[1] then return hf_missing(tombKey) end
if ARGV[9] ~= '' and ARGV[9] ~= m[7] then return {HF_FENCED, m[7] or '0'} end
local head = tonumber(m[2])
local epoch = hf_check_epoch(metaKey, ARGV[4], m[1], head, m[3], m[4], ARGV[1], ARGV[2], ARGV[3])
if ARGV[6] ~= epoch then return {HF_EPOCH_MISMATCH, epoch} end

local offset = tonumber(ARGV[7])
if offset > head then return {HF_BEYOND_HEAD, head} end
local acked = tonumber(m[6] or '0')
local now = hf_now_ms()
local idleTtlMs = tonumber(m[5])
local due = hf_housekeeping_due(m[8], now, idleTtlMs)
if offset > acked then
  if due then redis.call('HSET', metaKey, ackField, offset, 'active', now)
  else redis.call('HSET', metaKey, ackField, offset) end
  acked = offset
elseif due then
  redis.call('HSET', metaKey, 'active', now)
end
if due then hf_refresh_expiry(metaKey, logKey, tombKey, idleTtlMs, tonumber(ARGV[8])) end
return {HF_OK, acked}
