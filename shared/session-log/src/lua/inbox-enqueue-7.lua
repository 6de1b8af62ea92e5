--[[
  Accept an inbound (client to server) message: dedupe by the client's message id, give it the
  session's next inbound sequence number, store it in the session's inbox stream, and make sure
  a drain of the inbox is scheduled. The message is in Redis when this returns: the edge acks
  the client only then.

  KEYS[1] meta   KEYS[2] tomb   KEYS[3] inbox stream   KEYS[4] inbox state hash
  KEYS[5] inbound ids "a"   KEYS[6] inbound ids "b"   KEYS[7] log (for idle expiry)
  ARGV[1] message id   ARGV[2] data (JSON text)   ARGV[3] consumer id
  ARGV[4] dedupe window ms   ARGV[5] tombTtlMs
  ARGV[6] most new messages per second for this session, across all edges (0 = no limit)

  Inbox state hash fields: seq (last assigned), done (last handled), gen (drain generations
  so far), sched (generation of the scheduled drain, 0 when none), cur / attempt / published
  (the message being handled, its attempt, publishes made by that attempt),
  idsCur / idsSince (which dedupe hash is current, as for outbound ids).

  Returns {1, seq, duplicate (0/1), generation}: the caller (re)submits the drain job named
  after the generation; submitting it twice is harmless, forgetting it is not.
  Or {-9, retryAfterMs} when the session is over its rate, {-10, final} when it is completed
  (a completed conversation takes no more input), or {-1} / {-2, reason}.
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

local function scheduled()
  local sched = tonumber(redis.call('HGET', stateKey, 'sched') or '0')
  if sched == 0 then
    sched = redis.call('HINCRBY', stateKey, 'gen', 1)
    redis.call('HSET', stateKey, 'sched', sched)
  end
  return sched
end

local existing = redis.call('HGET', curIds, ARGV[1]) or redis.call('HGET', oldIds, ARGV[1])
if existing then
  -- A resend: acknowledge again, write nothing; the drain may still be pending, so name it.
  local sched = tonumber(redis.call('HGET', stateKey, 'sched') or '0')
  return {1, tonumber(existing), 1, sched}
end

-- Per-session rate, counted in one-second windows; resends above were not counted.
local limit = tonumber(ARGV[6])
if limit > 0 then
  local window = math.floor(now / 1000)
  local r = redis.call('HMGET', stateKey, 'rateWindow', 'rateCount')
  local count = (tonumber(r[1] or '-1') == window) and tonumber(r[2] or '0') or 0
  if count >= limit then return {-9, 1000 - (now % 1000)} end
  redis.call('HSET', stateKey, 'rateWindow', window, 'rateCount', count + 1)
end

local seq = redis.call('HINCRBY', stateKey, 'seq', 1)
redis.call('XADD', inKey, seq .. '-0', 'i', ARGV[1], 'd', ARGV[2], 'c', ARGV[3], 't', now)
redis.call('HSET', curIds, ARGV[1], seq)
redis.call('PEXPIRE', curIds, hf_ids_ttl(windowMs, tonumber(idleTtlMs)))
local generation = scheduled()
hf_touch(metaKey, KEYS[7], tombKey, tonumber(idleTtlMs), tonumber(ARGV[5]), now)
local ttl = tonumber(idleTtlMs)
if ttl > 0 then
  redis.call('PEXPIRE', inKey, ttl)
  redis.call('PEXPIRE', stateKey, ttl)
end
return {1, seq, 0, generation}
