--[[
  Shared helpers, prepended to every session-log script at load time (see scripts.ts).

  Meta hash fields (KEYS "meta"):
    epoch      random id of the log's current epoch; offsets mean something only within it
    head       last assigned offset (0 before the first append)
    runId      run_id of the Redis process that last served this session
    durable    "1" while every write of this epoch was made by a Redis that cannot lose an
               acknowledged write on restart (AOF appendfsync always, no replicas)
    created, active   ms timestamps (Redis TIME) of creation and last activity
    maxLen, maxAgeMs, idleTtlMs   retention and idle expiry of this session (0 = unlimited)
    idsCur, idsSince   which dedupe hash is current ("a"/"b") and since when
    ack:<consumer>     acknowledged offset of that consumer (cleared when the epoch changes)
    lease:<consumer>   generation of that consumer's newest connection (fencing token)
    holder:<consumer>  id of that connection, so the edge serving it can be told to let go
    seen:<consumer>    until when (Redis ms) that consumer counts as connected: set by the lease
                       claim and renewals, removed when its connection closes cleanly
    attempts:<consumer>  the newest connection attempt of that consumer's recent client
                       instances, "<instance> <attempt> ..." newest first (see lib-session.lua hf_claim)
    final, completed   set once by complete-9.lua: the last message offset (the head at
                       completion) and when (Redis ms). A completed session takes no appends;
                       its keys expire completedRetention after `completed`, and no refresh
                       (ack, lease, touch) extends that.

  The completion entry: complete-9.lua writes stream id <final+1>-0 with fields
  c = "1", t = completion time. It is not a message: `head` stays at final, reads stop at
  head so never return it, and its `t` keeps age trimming working (it is the newest entry).

  Reply statuses: the first element of every script's reply, named once here and nowhere else
  as a number. Upper-case HF_ names are reply statuses and nothing else: script-status.ts maps
  each to the same value (a unit test parses this file to keep them in step), and every reply
  goes through one checker there (script-errors.ts) that turns the failures into typed errors.
]]

local HF_OK = 1              -- done; script-specific fields follow
local HF_IDLE = 0            -- inbox-next: nothing left, the round is over
local HF_NOT_FOUND = -1      -- no such session
local HF_ENDED = -2          -- the session ended (+ reason: "deleted" / "expired")
local HF_EXISTS = -3         -- create: the session already exists
local HF_EPOCH_MISMATCH = -4 -- ack: another epoch is in force (+ the current epoch)
local HF_BEYOND_HEAD = -5    -- ack: the offset is beyond the head (+ head)
local HF_FENCED = -6         -- ack: a newer connection of the consumer holds the lease (+ its generation)
local HF_STALE = -7          -- inbox: this round or run no longer owns the inbox; stop
local HF_RATE_LIMITED = -9   -- inbox-enqueue: over the session's rate (+ retry after ms)
local HF_COMPLETED = -10     -- the session is completed (+ final offset): no more appends or input
local HF_SUPERSEDED = -11    -- claim: a newer attempt of the same client instance claimed (+ its attempt)

local function hf_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- One part of a many-session call (append-n, ack-n, claim-n, start-n): `fn(...)` run so that a
-- Redis error inside it (a key of the wrong type, say) becomes that part's reply instead of
-- failing the whole call; the other sessions of the call go on, as if each had its own call.
local function hf_part(fn, ...)
  local ok, result = pcall(fn, ...)
  if ok then return result end
  return redis.error_reply(tostring(type(result) == 'table' and result.err or result))
end

-- The reply for a session whose meta hash is missing: ended (tombstone present) or unknown.
local function hf_missing(tombKey)
  local reason = redis.call('GET', tombKey)
  if reason then return {HF_ENDED, reason} end
  return {HF_NOT_FOUND}
end

--[[
  The identity of the Redis process running this script, for the epoch rule below: its run id
  and whether it is durable now ("1"/"0").

  On a standalone Redis the caller sends both (read with INFO and CONFIG on its one connection,
  which never queues nor resends a script across a reconnection: server-identity.ts). On a
  Redis Cluster the caller cannot know which process will run a script (MOVED, ASK, a failover
  between sending and running), so it sends an empty run id and the script reads its own:
  run_id from INFO server, and from INFO replication whether it is a master with no replica
  connected. Replication is asynchronous, so a master with replicas is never durable and a
  failover always rotates the epoch of its sessions. CONFIG is not allowed in scripts, so the
  fsync policy is the caller's hint ("1" only when every master runs appendfsync always): the
  hint can lower durability, never raise it. Cost: two INFO calls, about 5 microseconds each (measured on
  Redis 7.0 here), paid only on a cluster.
]]
-- Read once per script run: a multi-session call (append-n.lua) checks many sessions' epochs.
local hf_own_identity

local function hf_identity(runId, durableHint)
  if runId ~= '' then return runId, durableHint end
  if not hf_own_identity then
    local server = redis.call('INFO', 'server')
    local replication = redis.call('INFO', 'replication')
    local alone = string.match(replication, 'role:(%a+)') == 'master'
      and string.match(replication, 'connected_slaves:(%d+)') == '0'
    hf_own_identity = {string.match(server, 'run_id:(%x+)'), (durableHint == '1' and alone) and '1' or '0'}
  end
  return hf_own_identity[1], hf_own_identity[2]
end

--[[
  The epoch rule. A session's log may have lost writes whenever the Redis process serving it
  changed (restart, failover) unless every write of the current epoch was made while Redis ran
  with appendfsync always and no replicas. In that case the epoch is kept; otherwise a new
  epoch starts, so no reader can ever see one offset with two different contents.

  A durable epoch also ends the moment a non-durable Redis first writes to it (a restart or
  failover onto everysec or a replica-backed master, or a live CONFIG SET). Merely marking the
  epoch "not durable" is not enough: that mark is itself a non-durable write, so a crash that
  loses the AOF tail loses the mark together with the appends after it, the next process finds
  the old durable mark, keeps the epoch and hands the lost offsets out again. A new epoch
  written first cannot be lost on its own: an AOF loses a suffix, so either it survives or
  every write made under it is gone as well, and a client that saw any of them holds an epoch
  the log no longer has.
  Returns the epoch in force and whether it was just rotated.
]]
local function hf_check_epoch(metaKey, channel, epoch, head, storedRunId, storedDurable, runId, durableNow, candidate)
  runId, durableNow = hf_identity(runId, durableNow)
  local durableEnds = storedDurable == '1' and durableNow == '0'
  if not durableEnds then
    if storedRunId == runId then return epoch, false end
    if storedDurable == '1' then
      redis.call('HSET', metaKey, 'runId', runId)
      return epoch, false
    end
  end
  redis.call('HSET', metaKey, 'epoch', candidate, 'runId', runId, 'durable', durableNow)
  -- Acknowledged offsets belong to the old epoch; keeping them would let a consumer without
  -- a position of its own skip messages of the new one.
  for _, field in ipairs(redis.call('HKEYS', metaKey)) do
    if string.sub(field, 1, 4) == 'ack:' then redis.call('HDEL', metaKey, field) end
  end
  -- Live readers learn of the new epoch at once; the stream is still the truth.
  redis.call('SPUBLISH', channel, '{"e":"' .. candidate .. '","o":' .. (tonumber(head) + 1) .. ',"n":0,"d":[]}')
  return candidate, true
end

--[[
  Idle expiry: every key of the session lives at least idleTtl past the last activity. The
  tombstone outlives the session by tombTtl, so a late append finds "ended", never a fresh
  session.

  Refreshing the expiry costs four commands (HSET active, three PEXPIREs), more than the XADD
  an append is for. So the hot paths (append, ack) refresh it only when the last refresh is
  hf_housekeeping_ms old, and every refresh sets the keys to live idleTtl plus that interval:
  a session expires between idleTtl and idleTtl + interval after its last activity, and
  `active` is exact to within the interval.
]]
local hf_housekeeping_max_ms = 1000

local function hf_housekeeping_ms(idleTtlMs)
  if idleTtlMs > 0 then return math.min(hf_housekeeping_max_ms, math.floor(idleTtlMs / 10)) end
  return hf_housekeeping_max_ms
end

-- True when the expiry refresh (and, on append, age retention) is due: `active` is the
-- session's last refresh time as stored, `now` Redis time.
local function hf_housekeeping_due(active, now, idleTtlMs)
  local last = tonumber(active)
  return last == nil or now - last >= hf_housekeeping_ms(idleTtlMs) or now < last
end

--[[
  An open connection is activity too, but idle connections are the bulk of an edge's Redis
  work: their lease renewals refresh the expiry (and `active`) at most once a minute, or every
  tenth of idleTtl when that is shorter, so the session never comes near expiring while a
  connection is open, and 10,000 idle connections cost a few commands each per renewal instead
  of eight.
]]
local hf_presence_refresh_max_ms = 60000

local function hf_presence_refresh_due(active, now, idleTtlMs)
  local last = tonumber(active)
  local interval = hf_housekeeping_ms(idleTtlMs)
  if idleTtlMs > 0 then interval = math.max(interval, math.min(hf_presence_refresh_max_ms, math.floor(idleTtlMs / 10))) end
  return last == nil or now - last >= interval or now < last
end

-- The PEXPIREs of a refresh (the caller writes `active`, often with other fields).
-- A completed session's expiry was fixed at completion (completedRetention), so activity after
-- it (acks, lease renewals, connections) must not push it further out.
local function hf_refresh_expiry(metaKey, logKey, tombKey, idleTtlMs, tombTtlMs)
  if idleTtlMs > 0 and redis.call('HEXISTS', metaKey, 'completed') == 0 then
    local ttl = idleTtlMs + hf_housekeeping_ms(idleTtlMs)
    redis.call('PEXPIRE', metaKey, ttl)
    redis.call('PEXPIRE', logKey, ttl)
    redis.call('PEXPIRE', tombKey, ttl + tombTtlMs)
  end
end

-- An unconditional refresh, for the rarer paths (create, connect, inbound).
local function hf_touch(metaKey, logKey, tombKey, idleTtlMs, tombTtlMs, now)
  redis.call('HSET', metaKey, 'active', now)
  hf_refresh_expiry(metaKey, logKey, tombKey, idleTtlMs, tombTtlMs)
end

--[[
  Renew one connection's consumer lease: when `generation` is still the consumer's newest, its
  presence (`seen:<consumer>`) lasts another leaseMs and the idle expiry is refreshed when due
  (an open connection is activity). Returns the consumer's current generation, or nil when the
  session is gone. Shared by lease-3.lua (one lease) and lease-renew-n.lua (an edge's batch);
  `now` is Redis time (hf_now_ms), read once per call however many leases it renews.
]]
local function hf_renew_lease(metaKey, logKey, tombKey, consumer, generation, leaseMs, tombTtlMs, now)
  local m = redis.call('HMGET', metaKey, 'epoch', 'lease:' .. consumer, 'idleTtlMs', 'active')
  if not m[1] then return nil end
  local current = tonumber(m[2] or '0')
  if current == generation then
    redis.call('HSET', metaKey, 'seen:' .. consumer, now + leaseMs)
    local idleTtlMs = tonumber(m[3])
    if hf_presence_refresh_due(m[4], now, idleTtlMs) then
      hf_touch(metaKey, logKey, tombKey, idleTtlMs, tombTtlMs, now)
    end
  end
  return current
end

local function hf_offset_of(streamId)
  return tonumber(string.match(streamId, '^(%d+)'))
end

-- The first offset still in the log, or head + 1 when nothing is retained.
local function hf_first_available(logKey, head)
  local first = redis.call('XRANGE', logKey, '-', '+', 'COUNT', 1)
  if #first == 0 then return tonumber(head) + 1 end
  return hf_offset_of(first[1][1])
end

-- Age retention: drop entries older than maxAgeMs (field "t" of each entry). Costs one
-- XRANGE COUNT 1 when nothing is due; bounded work otherwise (at most 4 pages of 256), and
-- whatever is left is trimmed by the next call.
local function hf_trim_by_age(logKey, maxAgeMs, now)
  if maxAgeMs <= 0 then return end
  local cutoff = now - maxAgeMs
  local oldest = redis.call('XRANGE', logKey, '-', '+', 'COUNT', 1)
  if #oldest == 0 or tonumber(oldest[1][2][4]) >= cutoff then return end
  local start = oldest[1][1]
  for _ = 1, 4 do
    local page = redis.call('XRANGE', logKey, start, '+', 'COUNT', 256)
    if #page == 0 then return end
    for _, entry in ipairs(page) do
      if tonumber(entry[2][4]) >= cutoff then
        redis.call('XTRIM', logKey, 'MINID', entry[1])
        return
      end
    end
    local nextId = (hf_offset_of(page[#page][1]) + 1) .. '-0'
    redis.call('XTRIM', logKey, 'MINID', nextId)
    start = nextId
  end
end

--[[
  Recent message ids live in two hashes that take turns: ids are written to the current one,
  looked up in both, and the older is dropped when the current one is a window old. An id is
  thus remembered for at least one and at most two windows, with no per-id expiry bookkeeping.
  `cur` / `since` are the hash's idsCur / idsSince fields. Returns (current, other) keys.
]]
local function hf_id_hashes(stateKey, keyA, keyB, cur, since, now, windowMs)
  if now - since >= windowMs then
    cur = (cur == 'a') and 'b' or 'a'
    redis.call('DEL', cur == 'a' and keyA or keyB)
    redis.call('HSET', stateKey, 'idsCur', cur, 'idsSince', now)
  end
  if cur == 'a' then return keyA, keyB end
  return keyB, keyA
end

-- How long a dedupe hash lives after a write: two windows (ids are looked up in the current
-- and the previous hash), but never past the session's own idle expiry, so an expired
-- session leaves nothing behind but its tombstone.
local function hf_ids_ttl(windowMs, idleTtlMs)
  if idleTtlMs > 0 then return math.min(windowMs * 2, idleTtlMs) end
  return windowMs * 2
end
