import type { SessionLog } from '@holdfast/session-log';

/** An append a producer had acknowledged: where, and its own counter `n`. */
export interface Acked {
  readonly epoch: string;
  readonly offset: number;
  readonly n: number;
}

/** What became of a session's acknowledged appends after a failover. */
export interface SessionBooks {
  /** The epoch in force now. */
  readonly epoch: string;
  readonly acked: number;
  /** Acknowledged appends whose offset no longer holds what was acknowledged. */
  readonly lost: number;
  /** Of those, the ones in the epoch in force: a silent rewind, which must never happen. */
  readonly rewinds: number;
}

/** Reads a session's whole log back and settles its acknowledged appends against it. */
export async function settleSession(
  log: SessionLog,
  sessionId: string,
  acked: readonly Acked[],
  page: { limit: number; maxBytes?: number },
): Promise<SessionBooks> {
  const stored = new Map<number, unknown>();
  let epoch = '';
  for (let from = 1; ;) {
    const read = await log.read(sessionId, { from, ...page });
    epoch = read.epoch;
    for (const entry of read.entries) stored.set(entry.offset, entry.data);
    if (read.entries.length === 0) break;
    from = read.entries[read.entries.length - 1]!.offset + 1;
    if (from > read.head) break;
  }
  let lost = 0;
  let rewinds = 0;
  for (const a of acked) {
    const same = (stored.get(a.offset) as { n?: number } | undefined)?.n === a.n;
    if (same) continue;
    lost += 1;
    if (a.epoch === epoch) rewinds += 1;
  }
  return { epoch, acked: acked.length, lost, rewinds };
}
