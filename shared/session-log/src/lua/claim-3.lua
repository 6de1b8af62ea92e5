--[[
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

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] consumer id   ARGV[2] holder (the new connection's id)   ARGV[3] tombTtlMs
  ARGV[4] lease ms: the consumer counts as connected until then unless renewed (see lease-3.lua)
  ARGV[5] client instance id, or "" for none   ARGV[6] attempt number (digits), or ""

  Returns {HF_OK, generation, previousHolder or ""}, {HF_SUPERSEDED, newest attempt stored}
  or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local consumer, instance, attempt = ARGV[1], ARGV[5], ARGV[6]
local m = redis.call('HMGET', metaKey, 'idleTtlMs', 'holder:' .. consumer, 'attempts:' .. consumer)
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
redis.call('HSET', metaKey, 'holder:' .. consumer, ARGV[2], 'seen:' .. consumer, now + tonumber(ARGV[4]))
hf_touch(metaKey, logKey, tombKey, tonumber(m[1]), tonumber(ARGV[3]), now)
return {HF_OK, generation, m[2] or ''}
