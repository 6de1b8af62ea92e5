import type { ScriptReply } from './scripts.js';
import type { LogEntry, ReadResult, SessionInfo } from './types.js';

/** What read-3.lua answered for a read from offset `from`, as a ReadResult. */
export function decodeReadReply(reply: ScriptReply, from: number): ReadResult {
  const head = Number(reply[3]);
  const firstAvailable = Number(reply[4]);
  const finalOffset = Number(reply[5]);
  const entries: LogEntry[] = [];
  for (let i = 6; i < reply.length; i += 2) {
    const json = String(reply[i + 1]);
    entries.push({ offset: Number(reply[i]), data: JSON.parse(json) as unknown, bytes: json.length });
  }
  return {
    epoch: String(reply[1]),
    head,
    firstAvailable,
    trimmed: from < firstAvailable && from <= head,
    entries,
    // -1: not completed (a session completed with no messages has final offset 0).
    ...(finalOffset >= 0 ? { finalOffset } : {}),
  };
}

/** What info-3.lua answered (the meta hash after the epoch check), as a SessionInfo. */
export function decodeInfoReply(reply: ScriptReply, sessionId: string): SessionInfo {
  const now = Number(reply[4]);
  const meta = new Map<string, string>();
  for (let i = 5; i < reply.length; i += 2) meta.set(String(reply[i]), String(reply[i + 1]));
  const acks: Record<string, number> = {};
  const connected: Record<string, boolean> = {};
  for (const [field, value] of meta) {
    if (field.startsWith('ack:')) acks[field.slice(4)] = Number(value);
    if (field.startsWith('seen:')) connected[field.slice(5)] = Number(value) > now;
  }
  const num = (field: string): number => Number(meta.get(field) ?? 0);
  return {
    sessionId,
    epoch: meta.get('epoch') ?? '',
    head: num('head'),
    firstAvailable: Number(reply[2]),
    length: Number(reply[3]),
    acks,
    connected,
    createdAt: num('created'),
    lastActiveAt: num('active'),
    retention: { maxMessages: num('maxLen'), maxAgeMs: num('maxAgeMs') },
    idleTtlMs: num('idleTtlMs'),
    durable: meta.get('durable') === '1',
    ...(meta.has('completed') ? { completedAt: num('completed'), finalOffset: num('final') } : {}),
  };
}
