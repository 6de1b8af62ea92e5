--[[
  End a session: delete every key of it, leave a tombstone naming the reason, and tell live
  readers on the session's channel.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb   KEYS[4] dedupe hash "a"   KEYS[5] dedupe hash "b"
  KEYS[6] inbox   KEYS[7] inbox state   KEYS[8] inbound ids "a"   KEYS[9] inbound ids "b"
  ARGV[1] live channel   ARGV[2] reason   ARGV[3] tombTtlMs

  Returns {HF_OK} or {HF_NOT_FOUND} / {HF_ENDED, reason} when there was no live session to end.
]]
local metaKey, tombKey = KEYS[1], KEYS[3]
if redis.call('EXISTS', metaKey) == 0 then return hf_missing(tombKey) end
redis.call('DEL', metaKey, KEYS[2], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
redis.call('SET', tombKey, ARGV[2], 'PX', tonumber(ARGV[3]))
redis.call('SPUBLISH', ARGV[1], '{"ended":"' .. ARGV[2] .. '"}')
return {HF_OK}
