--[[
  The per-session operations that both a one-session script and its many-session twin run,
  so the two answer alike: info and read (info-3.lua, read-3.lua, start-n.lua), the lease
  claim (claim-n.lua) and the ack (ack-n.lua). Prepended to every
  script after lib.lua, whose helpers they use (see scripts.ts).
]]
--[[
  A session's metadata after the epoch check (info-3.lua, and each session of start-n.lua).
  `length` counts messages only: a completed session's completion entry is not one.
  Returns {HF_OK, epochRotated, firstAvailable, length, nowMs, field1, value1, ...} or the
  missing-session reply.
]]
local function hf_info(metaKey, logKey, tombKey, channel, runId, durable, candidate)
  local m = redis.call('HMGET', metaKey, 'epoch', 'head', 'runId', 'durable')
  if not m[1] then return hf_missing(tombKey) end
  local _, rotated = hf_check_epoch(metaKey, channel, m[1], m[2], m[3], m[4], runId, durable, candidate)
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
end

--[[
  A read of a session's log from `from`, bounded by count and bytes, atomically with its epoch,
  head and first retained offset (read-3.lua, and the first read of start-n.lua).
  Returns {HF_OK, epoch, epochRotated, head, firstAvailable, final, offset1, data1, ...} or the
  missing-session reply.
]]
local function hf_read(metaKey, logKey, tombKey, channel, runId, durable, candidate, fromOffset, count, maxBytes)
  local m = redis.call('HMGET', metaKey, 'epoch', 'head', 'runId', 'durable', 'final')
  if not m[1] then return hf_missing(tombKey) end
  local head = tonumber(m[2])
  local epoch, rotated = hf_check_epoch(metaKey, channel, m[1], head, m[3], m[4], runId, durable, candidate)

  local firstAvailable = hf_first_available(logKey, head)
  local from = math.max(fromOffset, firstAvailable)
  local reply = {HF_OK, epoch, rotated and 1 or 0, head, firstAvailable, tonumber(m[5] or -1)}
  if from > head then return reply end

  local bytes = 0
  local entries = redis.call('XRANGE', logKey, from .. '-0', head .. '-0', 'COUNT', count)
  for _, entry in ipairs(entries) do
    local data = entry[2][2]
    bytes = bytes + #data
    if bytes > maxBytes and #reply > 6 then break end
    reply[#reply + 1] = hf_offset_of(entry[1])
    reply[#reply + 1] = data
  end
  return reply
end

--[[
  A consumer's lease claim (claim-n.lua runs it for the connections of one event-loop turn).
  A new connection of a consumer takes its lease: the generation goes up by one, so every
  older connection of that consumer is fenced (its acks are refused, its edge stops
  delivering). Counts as activity for idle expiry. The fencing protocol, end to end, is
  explained in consumer-leases-redis.ts.

  The client's own order of attempts (protocol 4): a connection may name its client instance
  and attempt number. `attempts:<consumer>` keeps the newest attempt of the consumer's most
  recent instances ("<instance> <attempt> ..." newest first, at most hf_attempt_instances).
  A claim by an attempt older than the newest one stored for its instance is refused
  (HF_SUPERSEDED), changing nothing: that client already moved on, and fencing its newer
  attempt would tell it `replaced` on its own behalf. Claims of other instances, and claims
  without an instance (older clients), fence as before.

  Returns {HF_OK, generation, previousHolder or ""} (none when the previous holder released
  the lease: its connection is closed), {HF_SUPERSEDED, newest attempt stored}
  or {HF_NOT_FOUND} / {HF_ENDED, reason}.

  The previous holder is answered only while it has not released the lease: a release (its
  connection closed cleanly, lease-3.lua) removes `seen:<consumer>`, and a closed connection
  needs no `replaced` notice. In a resume storm that is every client, and each notice is a
  message to every edge.
]]
local function hf_claim(metaKey, logKey, tombKey, consumer, holder, tombTtlMs, leaseMs, instance, attempt)
  local m = redis.call('HMGET', metaKey, 'idleTtlMs', 'holder:' .. consumer, 'attempts:' .. consumer, 'seen:' .. consumer)
  if not m[1] then return hf_missing(tombKey) end
  if instance ~= '' then
    -- Enough instances that another tab's claims between a stale attempt and its newer one do
    -- not push the instance out; few enough that the field stays small.
    local hf_attempt_instances = 8
    local kept = {instance .. ' ' .. attempt}
    for storedInstance, storedAttempt in string.gmatch(m[3] or '', '(%S+) (%d+)') do
      if storedInstance == instance then
        if tonumber(storedAttempt) > tonumber(attempt) then return {HF_SUPERSEDED, tonumber(storedAttempt)} end
      elseif #kept < hf_attempt_instances then
        kept[#kept + 1] = storedInstance .. ' ' .. storedAttempt
      end
    end
    redis.call('HSET', metaKey, 'attempts:' .. consumer, table.concat(kept, ' '))
  end
  local generation = redis.call('HINCRBY', metaKey, 'lease:' .. consumer, 1)
  local now = hf_now_ms()
  redis.call('HSET', metaKey, 'holder:' .. consumer, holder, 'seen:' .. consumer, now + leaseMs)
  hf_touch(metaKey, logKey, tombKey, tonumber(m[1]), tombTtlMs, now)
  return {HF_OK, generation, (m[4] and m[2]) or ''}
end

--[[
  A consumer's ack (ack-n.lua runs it for the acks of one event-loop turn).
  Record a consumer's acknowledged offset: monotonic, never beyond the head, only within the
  current epoch. Also counts as activity (the idle expiry refresh, when due: see lib.lua).
  `generation` is the lease generation of the acking connection, or "" when the caller holds
  no lease (a producer or the HTTP API acking on a consumer's behalf); the fencing check is
  part of the lease protocol explained in consumer-leases-redis.ts. `now` is Redis time
  (hf_now_ms), read once per call however many acks it stores.

  Returns {HF_OK, ackedOffset} (the stored value, which an older ack leaves unchanged)
          or {HF_FENCED, generation} when a newer connection of the consumer holds the lease,
          or {HF_EPOCH_MISMATCH, currentEpoch} / {HF_BEYOND_HEAD, head} / {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local function hf_ack(metaKey, logKey, tombKey, channel, runId, durable, candidate, consumer, ackEpoch, offset, tombTtlMs, generation, now)
  local ackField = 'ack:' .. consumer
  local m = redis.call('HMGET', metaKey, 'epoch', 'head', 'runId', 'durable', 'idleTtlMs', ackField,
    'lease:' .. consumer, 'active')
  if not m[1] then return hf_missing(tombKey) end
  if generation ~= '' and generation ~= m[7] then return {HF_FENCED, m[7] or '0'} end
  local head = tonumber(m[2])
  local epoch = hf_check_epoch(metaKey, channel, m[1], head, m[3], m[4], runId, durable, candidate)
  if ackEpoch ~= epoch then return {HF_EPOCH_MISMATCH, epoch} end

  if offset > head then return {HF_BEYOND_HEAD, head} end
  local acked = tonumber(m[6] or '0')
  local idleTtlMs = tonumber(m[5])
  local due = hf_housekeeping_due(m[8], now, idleTtlMs)
  if offset > acked then
    if due then redis.call('HSET', metaKey, ackField, offset, 'active', now)
    else redis.call('HSET', metaKey, ackField, offset) end
    acked = offset
  elseif due then
    redis.call('HSET', metaKey, 'active', now)
  end
  if due then hf_refresh_expiry(metaKey, logKey, tombKey, idleTtlMs, tombTtlMs) end
  return {HF_OK, acked}
end
