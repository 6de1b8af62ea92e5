--[[
  Mark a session active (a client connected), refreshing its idle expiry.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] tombTtlMs

  Returns {HF_OK} or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey, tombKey = KEYS[1], KEYS[2], KEYS[3]
local idleTtlMs = redis.call('HGET', metaKey, 'idleTtlMs')
if not idleTtlMs then return hf_missing(tombKey) end
hf_touch(metaKey, logKey, tombKey, tonumber(idleTtlMs), tonumber(ARGV[1]), hf_now_ms())
return {HF_OK}
