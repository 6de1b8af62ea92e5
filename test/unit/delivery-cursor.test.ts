import { describe, expect, it } from 'vitest';
import type { BatchPayload, ResetPayload } from '@holdfast/protocol';
import type { LiveEntries, ReadResult } from '@holdfast/session-log';
import { DeliveryCursor, type CursorDeps } from '../../services/edge/src/delivery-cursor.js';

/** The cursor's frame decisions, against an in-memory log (the Redis paths are integration tests). */
function harness(log: { epoch: string; entries: unknown[] }, windowMessages = 1000, startOffset?: number) {
  const frames: BatchPayload[] = [];
  const events: string[] = [];
  const reads: Array<{ from: number; limit: number }> = [];
  const deps: CursorDeps = {
    read: (from, limit): Promise<ReadResult> => {
      reads.push({ from, limit });
      const entries = log.entries
        .map((data, i) => ({ offset: i + 1, data, bytes: 10 }))
        .filter((e) => e.offset >= from)
        .slice(0, limit);
      return Promise.resolve({
        epoch: log.epoch,
        head: log.entries.length,
        firstAvailable: 1,
        trimmed: false,
        entries,
      });
    },
    sendBatch: (batch) => {
      frames.push(batch);
      events.push(`batch ${batch.from}+${batch.data.length}`);
    },
    sendReset: (reset: ResetPayload) => events.push(`reset ${reset.newEpoch}`),
    mayDeliver: () => true,
    onFatal: (error) => {
      throw error;
    },
  };
  const start = { epoch: log.epoch, offset: startOffset ?? log.entries.length + 1, head: log.entries.length };
  const cursor = new DeliveryCursor(deps, { messages: windowMessages, bytes: 1 << 20 }, start);
  return { cursor, frames, events, reads };
}

function live(epoch: string, from: number, data: unknown[]): LiveEntries {
  return { kind: 'entries', epoch, from, count: data.length, bytes: 10 * data.length, data: () => data };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('DeliveryCursor', () => {
  it('sends the live batches of one event-loop turn as one frame, in order', async () => {
    const { cursor, frames } = harness({ epoch: 'e1', entries: [] });
    cursor.start();
    cursor.onLive(live('e1', 1, ['a']));
    cursor.onLive(live('e1', 2, ['b', 'c']));
    cursor.onLive(live('e1', 4, ['d']));
    expect(frames).toEqual([]);
    await nextTurn();
    expect(frames).toEqual([{ epoch: 'e1', from: 1, data: ['a', 'b', 'c', 'd'] }]);
    cursor.onLive(live('e1', 5, ['e']));
    await nextTurn();
    expect(frames.at(-1)).toEqual({ epoch: 'e1', from: 5, data: ['e'] });
    expect(cursor.position).toMatchObject({ nextOffset: 6, inFlight: 5 });
  });

  it('sends what the turn took before stopping, so a closing notice comes after it', () => {
    const { cursor, frames } = harness({ epoch: 'e1', entries: [] });
    cursor.start();
    cursor.onLive(live('e1', 1, ['a']));
    cursor.stop();
    expect(frames).toEqual([{ epoch: 'e1', from: 1, data: ['a'] }]);
    cursor.onLive(live('e1', 2, ['b']));
    expect(frames).toHaveLength(1);
  });

  it("sends the old epoch's frame before a reset to the new one", async () => {
    const log = { epoch: 'e1', entries: [] as unknown[] };
    const { cursor, events } = harness(log);
    cursor.start();
    cursor.onLive(live('e1', 1, ['a']));
    log.epoch = 'e2';
    log.entries = ['x', 'y'];
    cursor.onLive(live('e2', 1, ['x', 'y']));
    await turnsUntil(() => events.length >= 3);
    expect(events).toEqual(['batch 1+1', 'reset e2', 'batch 1+2']);
  });

  it('replays a backlog in reads of at least a quarter window while messages are in flight', async () => {
    const backlog = Array.from({ length: 1000 }, (_, i) => i);
    const log = { epoch: 'e1', entries: backlog };
    const { cursor, frames, reads } = harness(log, 100, 1);
    cursor.start();
    await turnsUntil(() => frames.length === 1);
    // Acks of 10 at a time (a client acking every few messages) do not each trigger a read.
    let acked = 0;
    while (acked < 1000) {
      acked += 10;
      if (acked > frames.reduce((n, f) => n + f.data.length, 0)) break;
      cursor.onAck(acked);
      await nextTurn();
      await nextTurn();
    }
    const delivered = frames.flatMap((f) => f.data);
    expect(delivered).toEqual(backlog.slice(0, delivered.length));
    expect(delivered.length).toBeGreaterThanOrEqual(900);
    for (const read of reads.slice(1)) expect(read.limit).toBeGreaterThanOrEqual(25);
  });
});

/** Let the cursor's promises and turns run until `condition` holds (bounded). */
async function turnsUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await nextTurn();
  expect(condition()).toBe(true);
}
