import { describe, expect, it } from 'vitest';
import type { HelloPayload, ResetPayload } from '@holdfast/protocol';
import { ArrivalCursor } from '../../shared/client/src/arrival-cursor.js';

function hello(epoch: string, startOffset: number): HelloPayload {
  return {
    sessionId: 's',
    consumerId: 'default',
    epoch,
    head: 100,
    startOffset,
    ackedOffset: 0,
    window: { messages: 1000, bytes: 1 << 17 },
    tokenExpiresAt: 0,
  };
}

const batch = (epoch: string, from: number, count: number) => ({
  epoch,
  from,
  data: Array.from({ length: count }, (_, i) => `m${from + i}`),
});

const offsets = (arrival: ReturnType<ArrivalCursor['accept']>): number[] | string =>
  arrival.ok ? arrival.messages.map((m) => m.offset) : arrival.violation;

describe('ArrivalCursor', () => {
  it('without a position, accepts from the hello start and hands over data with offsets', () => {
    const cursor = new ArrivalCursor();
    cursor.onHello(hello('E', 11), undefined);
    const arrival = cursor.accept(batch('E', 11, 2));
    expect(arrival).toEqual({
      ok: true,
      duplicates: 0,
      messages: [
        { epoch: 'E', offset: 11, data: 'm11' },
        { epoch: 'E', offset: 12, data: 'm12' },
      ],
    });
  });

  it('drops offsets at or below the handled position (partly or wholly repeated batches)', () => {
    const cursor = new ArrivalCursor();
    cursor.onHello(hello('E', 5), { epoch: 'E', offset: 7 });
    const first = cursor.accept(batch('E', 5, 5));
    expect(offsets(first)).toEqual([8, 9]);
    expect(first.ok && first.duplicates).toBe(3);
    expect(offsets(cursor.accept(batch('E', 6, 4)))).toEqual([]);
    expect(offsets(cursor.accept(batch('E', 10, 1)))).toEqual([10]);
  });

  it('refuses gaps, foreign epochs and malformed batches', () => {
    const cursor = new ArrivalCursor();
    cursor.onHello(hello('E', 1), { epoch: 'E', offset: 0 });
    expect(offsets(cursor.accept(batch('E', 2, 1)))).toBe('a gap: the batch starts at 2, expected 1');
    expect(offsets(cursor.accept(batch('F', 1, 1)))).toBe('a batch of epoch F arrived, expected epoch E');
    expect(offsets(cursor.accept({ epoch: 'E', from: 1, data: 'x' }))).toMatch(/not \{ epoch, from, data/);
    expect(offsets(cursor.accept({ epoch: 'E', from: 0, data: [] }))).toMatch(/not \{ epoch, from, data/);
    expect(offsets(cursor.accept(null))).toMatch(/not \{ epoch, from, data/);
  });

  it('with a position in another epoch, expects a reset before any batch, then continues from resumeFrom', () => {
    const cursor = new ArrivalCursor();
    cursor.onHello(hello('NEW', 1), { epoch: 'OLD', offset: 40 });
    expect(offsets(cursor.accept(batch('NEW', 1, 1)))).toBe(
      'a batch of epoch NEW arrived, expected a reset first',
    );
    const reset: ResetPayload = {
      reason: 'epoch_changed',
      oldEpoch: 'OLD',
      newEpoch: 'NEW',
      firstAvailable: 3,
      resumeFrom: 3,
    };
    cursor.onReset(reset);
    expect(offsets(cursor.accept(batch('NEW', 3, 2)))).toEqual([3, 4]);
  });

  it('acks only within what this connection delivered, above its last ack, in its epoch', () => {
    const cursor = new ArrivalCursor();
    cursor.onHello(hello('E', 11), { epoch: 'E', offset: 12 }); // window starts at 10
    expect(cursor.ackFor({ epoch: 'E', offset: 12 })).toBeUndefined(); // nothing delivered yet
    cursor.accept(batch('E', 11, 5)); // delivers 11..15
    expect(cursor.ackFor({ epoch: 'E', offset: 12 })).toEqual({ epoch: 'E', offset: 12 });
    expect(cursor.ackFor({ epoch: 'E', offset: 20 })).toEqual({ epoch: 'E', offset: 15 });
    cursor.markAcked(15);
    expect(cursor.ackFor({ epoch: 'E', offset: 15 })).toBeUndefined();
    expect(cursor.ackFor({ epoch: 'F', offset: 15 })).toBeUndefined();
    expect(cursor.ackFor(undefined)).toBeUndefined();
  });

  it('after a dropped ack (rate limit) sends the latest ack again, even when it equals the last one', () => {
    const cursor = new ArrivalCursor();
    cursor.onHello(hello('E', 1), undefined);
    cursor.accept(batch('E', 1, 10));
    cursor.markAcked(10);
    expect(cursor.ackFor({ epoch: 'E', offset: 10 })).toBeUndefined();
    cursor.unconfirmAck();
    expect(cursor.ackFor({ epoch: 'E', offset: 10 })).toEqual({ epoch: 'E', offset: 10 });
    cursor.markAcked(10);
    expect(cursor.ackFor({ epoch: 'E', offset: 10 })).toBeUndefined();
    // Nothing handled on this connection yet: nothing to resend.
    const fresh = new ArrivalCursor();
    fresh.onHello(hello('E', 11), { epoch: 'E', offset: 10 });
    fresh.unconfirmAck();
    expect(fresh.ackFor({ epoch: 'E', offset: 10 })).toBeUndefined();
  });
});
