--[[
  A session's metadata, consistent with its epoch rule and retention.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] runId   ARGV[2] durable   ARGV[3] candidate epoch   ARGV[4] live channel

  `length` counts messages only: a completed session's completion entry is not one (lib.lua hf_info).

  Returns {HF_OK, epochRotated, firstAvailable, length, nowMs, field1, value1, field2, value2, ...}
          (the meta hash after the epoch check; nowMs is Redis time, to read the `seen:`
          presence fields against) or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
return hf_info(KEYS[1], KEYS[2], KEYS[3], ARGV[4], ARGV[1], ARGV[2], ARGV[3])
