--[[
  What connections starting on an edge need of their sessions, for many sessions in one call:
  each session's info (exactly as info-3.lua) and, when asked, its first read (exactly as
  read-3.lua), both in one atomic step so the read is of the epoch and head the info reports.
  A resume storm on one edge is a thousand handshakes at once: one call per tick (per partition
  on a cluster) instead of an info and a read call per connection. The number of keys varies
  (3 per session); on a cluster every key of one call must share a slot, so the caller
  (start-batches.ts) then puts sessions of one partition in a call.

  KEYS[3i-2] meta   KEYS[3i-1] log   KEYS[3i] tomb   of session i
  ARGV[1] runId   ARGV[2] durable
  ARGV[5i-2] candidate epoch of session i   ARGV[5i-1] its live channel
  ARGV[5i] from (first offset wanted; 0: no read)   ARGV[5i+1] max count   ARGV[5i+2] max bytes

  Returns {HF_OK, {info1, read1}, {info2, read2}, ...}: infoi as info-3.lua answers (or the
  missing-session reply), readi as read-3.lua answers, or {} when no read was asked or the
  session is missing; or, in place of {infoi, readi}, the error a failed command raised.
]]
local runId, durable = ARGV[1], ARGV[2]

local function start_session(i)
  local metaKey, logKey, tombKey = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local a = 5 * i - 2
  local candidate, channel, from = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local info = hf_info(metaKey, logKey, tombKey, channel, runId, durable, candidate)
  local read = {}
  if info[1] == HF_OK and from > 0 then
    -- The epoch was checked (and rotated if due) just above: this check keeps it.
    read = hf_read(metaKey, logKey, tombKey, channel, runId, durable, candidate, from, tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]))
  end
  return {info, read}
end

local reply = {HF_OK}
for i = 1, #KEYS / 3 do
  reply[i + 1] = hf_part(start_session, i)
end
return reply
