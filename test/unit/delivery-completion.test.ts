import { describe, expect, it } from 'vitest';
import type { LiveEntries, ReadResult } from '@holdfast/session-log';
import { DeliveryCursor, type CursorDeps } from '../../services/edge/src/delivery-cursor.js';

/**
 * The cursor's completion and delete paths against an in-memory log whose reads resolve only
 * when the test says (to hold a read in flight while notifications arrive).
 */
function harness(windowMessages = 100) {
  const events: string[] = [];
  const pendingReads: Array<(result: ReadResult) => void> = [];
  const deps: CursorDeps = {
    read: () => new Promise<ReadResult>((resolve) => pendingReads.push(resolve)),
    sendBatch: (batch) => events.push(`batch ${batch.from}+${batch.data.length}`),
    sendReset: (reset) => events.push(`reset ${reset.newEpoch}`),
    mayDeliver: () => true,
    onFatal: (error) => events.push(`fatal ${String(error)}`),
    onComplete: (complete) => events.push(`complete ${complete.finalOffset}`),
  };
  return { deps, events, pendingReads, window: { messages: windowMessages, bytes: 1 << 20 } };
}

function live(from: number, data: unknown[]): LiveEntries {
  return {
    kind: 'entries',
    epoch: 'e1',
    from,
    count: data.length,
    bytes: 10 * data.length,
    data: () => data,
  };
}

function readResult(from: number, to: number, finalOffset?: number): ReadResult {
  const entries = [];
  for (let offset = from; offset <= to; offset++) entries.push({ offset, data: offset, bytes: 10 });
  return {
    epoch: 'e1',
    head: to,
    firstAvailable: 1,
    trimmed: false,
    entries,
    ...(finalOffset === undefined ? {} : { finalOffset }),
  };
}

/** A resolved read continues in a microtask, which schedules its flush for the turn after. */
const nextTurn = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('DeliveryCursor completion', () => {
  it('sends complete after the last batch, once, when the completion notice follows the messages', async () => {
    const { deps, events, window } = harness();
    const cursor = new DeliveryCursor(deps, window, { epoch: 'e1', offset: 1, head: 0 });
    cursor.start();
    cursor.onLive(live(1, ['a', 'b']));
    cursor.onLive({ kind: 'completed', epoch: 'e1', finalOffset: 2 });
    cursor.onLive({ kind: 'completed', epoch: 'e1', finalOffset: 2 });
    await nextTurn();
    expect(events).toEqual(['batch 1+2', 'complete 2']);
  });

  it('a completion notice arriving during a read is not lost: the rest, then complete', async () => {
    const { deps, events, pendingReads, window } = harness();
    const cursor = new DeliveryCursor(deps, window, { epoch: 'e1', offset: 1, head: 3 });
    cursor.start();
    expect(pendingReads).toHaveLength(1);
    cursor.onLive({ kind: 'completed', epoch: 'e1', finalOffset: 3 });
    pendingReads.shift()?.(readResult(1, 3, 3));
    await nextTurn();
    expect(events).toEqual(['batch 1+3', 'complete 3']);
  });

  it('a client already at the final offset gets complete at once', () => {
    const { deps, events, window } = harness();
    const cursor = new DeliveryCursor(deps, window, { epoch: 'e1', offset: 6, head: 5, finalOffset: 5 });
    cursor.start();
    expect(events).toEqual(['complete 5']);
  });

  it('with a full window, complete waits for the acks that let the last messages out', async () => {
    const { deps, events, pendingReads, window } = harness(2);
    const cursor = new DeliveryCursor(deps, window, { epoch: 'e1', offset: 1, head: 3, finalOffset: 3 });
    cursor.start();
    pendingReads.shift()?.(readResult(1, 2, 3));
    await nextTurn();
    expect(events).toEqual(['batch 1+2']);
    cursor.onAck(2);
    pendingReads.shift()?.(readResult(3, 3, 3));
    await nextTurn();
    expect(events).toEqual(['batch 1+2', 'batch 3+1', 'complete 3']);
  });
});

describe('DeliveryCursor finish (delete)', () => {
  it('delivers the notifications held during a read before stopping; the read result is dropped', async () => {
    const { deps, events, pendingReads, window } = harness();
    const cursor = new DeliveryCursor(deps, window, { epoch: 'e1', offset: 1, head: 0 });
    cursor.start();
    cursor.onLive({ kind: 'resync' }); // a read is now in flight
    cursor.onLive(live(1, ['a']));
    cursor.onLive(live(2, ['b', 'c']));
    expect(events).toEqual([]);
    cursor.finish();
    expect(events).toEqual(['batch 1+3']);
    pendingReads.shift()?.(readResult(1, 3));
    await nextTurn();
    expect(events).toEqual(['batch 1+3']);
  });

  it('holds no more than the window has room for', () => {
    const { deps, events, window } = harness(2);
    const cursor = new DeliveryCursor(deps, window, { epoch: 'e1', offset: 1, head: 0 });
    cursor.start();
    cursor.onLive({ kind: 'resync' });
    cursor.onLive(live(1, ['a', 'b']));
    cursor.onLive(live(3, ['c']));
    cursor.finish();
    expect(events).toEqual(['batch 1+2']);
  });
});
