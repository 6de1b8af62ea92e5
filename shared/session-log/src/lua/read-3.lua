--[[
  Read a session's log from an offset, bounded by count and bytes, atomically with the
  session's epoch, head and first retained offset.

  KEYS[1] meta   KEYS[2] log   KEYS[3] tomb
  ARGV[1] runId   ARGV[2] durable   ARGV[3] candidate epoch   ARGV[4] live channel
  ARGV[5] from (first offset wanted)   ARGV[6] max count (>= 1)   ARGV[7] max bytes of data

  Entries start at max(from, firstAvailable); the caller sees from < firstAvailable as
  "trimmed" and must say so, never hide the gap. At least one entry is returned when any
  is available, whatever its size.

  A completed session's log ends with the completion entry at final + 1 (see lib.lua); reads
  stop at head (= final), so it is never returned as data, and `final` tells the reader
  the end has come (-1 while the session is open; 0 is a session completed empty).

  Returns {HF_OK, epoch, epochRotated, head, firstAvailable, final, offset1, data1, offset2, data2, ...}
          or {HF_NOT_FOUND} / {HF_ENDED, reason}.
]]
return hf_read(KEYS[1], KEYS[2], KEYS[3], ARGV[4], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
