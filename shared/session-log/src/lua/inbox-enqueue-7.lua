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

  KEYS[1] meta   KEYS[2] tomb   KEYS[3] inbox stream   KEYS[4] inbox state hash
  KEYS[5] inbound ids "a"   KEYS[6] inbound ids "b"   KEYS[7] log (for idle expiry)
  ARGV[1] message id   ARGV[2] data (JSON text)   ARGV[3] consumer id
  ARGV[4] dedupe window ms   ARGV[5] tombTtlMs
  ARGV[6] most new messages per second for this session, across all edges (0 = no limit)

  Inbox state hash fields: seq (last assigned), done (last handled), gen (rounds opened so far;
  the field keeps its first name, see below), sched (the open round, 0 when none), cur / attempt
  / published (the message being handled, its attempt, publishes made by that attempt),
  owner (run token of the run handling it), idsCur / idsSince (which dedupe hash is current,
  as for outbound ids). `gen` is not renamed to match "round": the hash is stored state, and a
  release still running the old scripts (two releases share Redis during a rolling deploy)
  would restart the count under the old name, so round numbers, which name jobs, could repeat.

  Returns {HF_OK, seq, duplicate (0/1), round}: the caller (re)submits the job named after the
  round; submitting it twice is harmless, forgetting it is not.
  Or {HF_RATE_LIMITED, retryAfterMs} when the session is over its rate, {HF_COMPLETED, final} when it is completed
  (a completed conversation takes no more input), or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, tombKey, inKey, stateKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local idleTtlMs = redis.call('HGET', metaKey, 'idleTtlMs')
if not idleTtlMs then return hf_missing(tombKey) end
local final = redis.call('HGET', metaKey, 'final')
if final then return {HF_COMPLETED, tonumber(final)} end
local now = hf_now_ms()
local windowMs = tonumber(ARGV[4])

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

local existing = redis.call('HGET', curIds, ARGV[1]) or redis.call('HGET', oldIds, ARGV[1])
if existing then
  -- A resend: acknowledge again, write nothing; the round may still be pending, so name it.
  local round = tonumber(redis.call('HGET', stateKey, 'sched') or '0')
  return {HF_OK, tonumber(existing), 1, round}
end

-- Per-session rate, counted in one-second windows; resends above were not counted.
local limit = tonumber(ARGV[6])
if limit > 0 then
  local window = math.floor(now / 1000)
  local r = redis.call('HMGET', stateKey, 'rateWindow', 'rateCount')
  local count = (tonumber(r[1] or '-1') == window) and tonumber(r[2] or '0') or 0
  if count >= limit then return {HF_RATE_LIMITED, 1000 - (now % 1000)} end
  redis.call('HSET', stateKey, 'rateWindow', window, 'rateCount', count + 1)
end

local seq = redis.call('HINCRBY', stateKey, 'seq', 1)
redis.call('XADD', inKey, seq .. '-0', 'i', ARGV[1], 'd', ARGV[2], 'c', ARGV[3], 't', now)
redis.call('HSET', curIds, ARGV[1], seq)
redis.call('PEXPIRE', curIds, hf_ids_ttl(windowMs, tonumber(idleTtlMs)))
local round = open_round()
hf_touch(metaKey, KEYS[7], tombKey, tonumber(idleTtlMs), tonumber(ARGV[5]), now)
local ttl = tonumber(idleTtlMs)
if ttl > 0 then
  redis.call('PEXPIRE', inKey, ttl)
  redis.call('PEXPIRE', stateKey, ttl)
end
return {HF_OK, seq, 0, round}
