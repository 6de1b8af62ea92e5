--[[
  Enforce a session's age retention without an append (an idle session that is still alive
  through acks or connections keeps no message past its max age).

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb

  Returns {HF_OK, firstAvailable, more (1 when the bounded trim may have left old entries)}
          or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
local metaKey, logKey = KEYS[1], KEYS[2]
local m = redis.call('HMGET', metaKey, 'head', 'maxAgeMs')
if not m[1] then return hf_missing(KEYS[3]) end
local maxAgeMs = tonumber(m[2] or '0')
local now = hf_now_ms()
hf_trim_by_age(logKey, maxAgeMs, now)
local oldest = redis.call('XRANGE', logKey, '-', '+', 'COUNT', 1)
local more = (maxAgeMs > 0 and #oldest > 0 and tonumber(oldest[1][2][4]) < now - maxAgeMs) and 1 or 0
return {HF_OK, hf_first_available(logKey, m[1]), more}
