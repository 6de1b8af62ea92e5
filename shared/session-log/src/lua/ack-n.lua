--[[
  Many consumers' acks in one call: the acks an edge's connections send in one event-loop turn
  (a resume storm's clients ack together). Each is stored by lib-session.lua hf_ack
  (lib.lua hf_ack: fencing, epoch rule, monotonic, never beyond the head), in the order given.
  The number of keys varies (3 per ack); on a cluster every key of one call must share a slot,
  so the caller (ack-batches.ts) then puts acks of one partition in a call.

  KEYS[3i-2] meta   KEYS[3i-1] log   KEYS[3i] tomb   of ack i
  ARGV[1] runId   ARGV[2] durable   ARGV[3] tombTtlMs
  ARGV[6i-2] candidate epoch of ack i   ARGV[6i-1] its live channel   ARGV[6i] consumer id
  ARGV[6i+1] epoch of the ack   ARGV[6i+2] offset   ARGV[6i+3] lease generation or ""

  Returns {HF_OK, reply1, reply2, ...}: each as hf_ack answers, or the error a failed
  command raised.
]]
local runId, durable, tombTtlMs = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = hf_now_ms()
local reply = {HF_OK}
for i = 1, #KEYS / 3 do
  local a = 6 * i - 2
  reply[i + 1] = hf_part(hf_ack, KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[a + 1], runId, durable, ARGV[a], ARGV[a + 2], ARGV[a + 3], tonumber(ARGV[a + 4]), tombTtlMs, ARGV[a + 5], now)
end
return reply
