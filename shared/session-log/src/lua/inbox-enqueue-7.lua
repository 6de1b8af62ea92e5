--[[
  Accept an inbound (client to server) message: dedupe by the client's message id, give it the
  session's next inbound sequence number, store it in the session's inbox stream, and make sure
  a round of the inbox is open. The message is in Redis when this returns: the edge acks the
  client only then.

  Inbox rounds: each time the inbox goes from idle to pending, a new round opens, numbered
  1, 2, 3, ... per session. The round number names the one job (a worker's inbox run) that works
  through the inbox until it is empty again; runs of any other round are stale and stop (see
  inbox-next-4.lua). It is a different thing from a consumer lease's generation (lib.lua).
  Inside one round, each run of its job has its own run token (inbox-next-4.lua).

  The epoch rule (lib.lua) is applied first, as for every other write to a session: storing a
  message is a write, and on a Redis that can lose it (a first write after a restart onto
  everysec, a replica-backed master) the epoch must change before it, or a crash that lost the
  message would keep the epoch and nobody would learn of the loss. The epoch in force is
  returned: the edge acknowledges the message only to a connection that has told its client
  that same epoch (services/edge/src/inbound-send.ts), so an acknowledgement is never the
  first news of a timeline the client was already told is gone.

  KEYS[1] meta   KEYS[2] tomb   KEYS[3] inbox stream   KEYS[4] inbox state hash
  KEYS[5] inbound ids "a"   KEYS[6] inbound ids "b"   KEYS[7] log (for idle expiry)
  ARGV[1] runId   ARGV[2] durable   ARGV[3] candidate epoch   ARGV[4] live channel
  ARGV[5] message id   ARGV[6] data (JSON text)   ARGV[7] consumer id
  ARGV[8] dedupe window ms   ARGV[9] tombTtlMs
  ARGV[10] most new messages per second for this session, across all edges (0 = no limit)

  Inbox state hash fields: seq (last assigned), done (last handled), gen (rounds opened so far;
  the field keeps its first name, see below), sched (the open round, 0 when none), cur / attempt
  / published (the message being handled, its attempt, publishes made by that attempt),
  owner (run token of the run handling it), idsCur / idsSince (which dedupe hash is current,
  as for outbound ids). `gen` is not renamed to match "round": the hash is stored state, and a
  release still running the old scripts (two releases share Redis during a rolling deploy)
  would restart the count under the old name, so round numbers, which name jobs, could repeat.

  Returns {HF_OK, seq, duplicate (0/1), round, epoch}: the caller (re)submits the job named after
  the round; submitting it twice is harmless, forgetting it is not.
  Or {HF_RATE_LIMITED, retryAfterMs} when the session is over its rate, {HF_COMPLETED, final} when it is completed
  (a completed conversation takes no more input), or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, tombKey, inKey, stateKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local m = redis.call('HMGET', metaKey, 'idleTtlMs', 'final', 'epoch', 'head', 'runId', 'durable')
local idleTtlMs = m[1]
if not idleTtlMs then return hf_missing(tombKey) end
if m[2] then return {HF_COMPLETED, tonumber(m[2])} end
local epoch = hf_check_epoch(metaKey, ARGV[4], m[3], tonumber(m[4]), m[5], m[6], ARGV[1], ARGV[2], ARGV[3])
local msgId, data, consumerId = ARGV[5], ARGV[6], ARGV[7]
local now = hf_now_ms()
local windowMs = tonumber(ARGV[8])

local s = redis.call('HMGET', stateKey, 'idsCur', 'idsSince', 'sched', 'gen')
local idsCur, idsSince = s[1] or 'a', tonumber(s[2] or now)
if not s[1] then redis.call('HSET', stateKey, 'idsCur', 'a', 'idsSince', now, 'seq', 0, 'done', 0, 'gen', 0, 'sched', 0) end
local curIds, oldIds = hf_id_hashes(stateKey, KEYS[5], KEYS[6], idsCur, idsSince, now, windowMs)

-- The open round, opening the next one when none is.
local function open_round()
  local round = tonumber(redis.call('HGET', stateKey, 'sched') or '0')
  if round == 0 then
    round = redis.call('HINCRBY', stateKey, 'gen', 1)
    redis.call('HSET', stateKey, 'sched', round)
  end
  return round
end

local existing = redis.call('HGET', curIds, msgId) or redis.call('HGET', oldIds, msgId)
if existing then
  -- A resend: acknowledge again, write nothing; the round may still be pending, so name it.
  local round = tonumber(redis.call('HGET', stateKey, 'sched') or '0')
  return {HF_OK, tonumber(existing), 1, round, epoch}
end

-- Per-session rate, counted in one-second windows; resends above were not counted.
local limit = tonumber(ARGV[10])
if limit > 0 then
  local window = math.floor(now / 1000)
  local r = redis.call('HMGET', stateKey, 'rateWindow', 'rateCount')
  local count = (tonumber(r[1] or '-1') == window) and tonumber(r[2] or '0') or 0
  if count >= limit then return {HF_RATE_LIMITED, 1000 - (now % 1000)} end
  redis.call('HSET', stateKey, 'rateWindow', window, 'rateCount', count + 1)
end

local seq = redis.call('HINCRBY', stateKey, 'seq', 1)
redis.call('XADD', inKey, seq .. '-0', 'i', msgId, 'd', data, 'c', consumerId, 't', now)
redis.call('HSET', curIds, msgId, seq)
redis.call('PEXPIRE', curIds, hf_ids_ttl(windowMs, tonumber(idleTtlMs)))
local round = open_round()
hf_touch(metaKey, KEYS[7], tombKey, tonumber(idleTtlMs), tonumber(ARGV[9]), now)
local ttl = tonumber(idleTtlMs)
if ttl > 0 then
  redis.call('PEXPIRE', inKey, ttl)
  redis.call('PEXPIRE', stateKey, ttl)
end
return {HF_OK, seq, 0, round, epoch}
