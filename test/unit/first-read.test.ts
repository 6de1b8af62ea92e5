import { describe, expect, it } from 'vitest';
import type { ReadResult } from '@holdfast/session-log';
import {
  FIRST_READ_BYTES,
  FIRST_READ_MESSAGES,
  PrefetchedRead,
  firstReadFor,
} from '../../services/edge/src/first-read.js';
import { decideStart } from '../../services/edge/src/start-point.js';

const window = { messages: 1000, bytes: 128 * 1024 };
const log = { epoch: 'E', head: 100, firstAvailable: 41 };
const result: ReadResult = {
  epoch: 'E',
  head: 100,
  firstAvailable: 41,
  trimmed: false,
  entries: [{ offset: 61, data: 'x', bytes: 3 }],
};

describe('the first read made with the session info', () => {
  it('is asked only for a client with a position, from right after it, within small bounds', () => {
    expect(firstReadFor(undefined, window)).toBeUndefined();
    expect(firstReadFor('oldest', window)).toBeUndefined();
    // Nothing can follow the largest safe offset (bad-input tests send it): no read, no error.
    expect(firstReadFor({ epoch: 'E', offset: Number.MAX_SAFE_INTEGER }, window)).toBeUndefined();
    expect(firstReadFor({ epoch: 'E', offset: 60 }, window)).toEqual({
      from: 61,
      limit: FIRST_READ_MESSAGES,
      maxBytes: FIRST_READ_BYTES,
    });
    expect(firstReadFor({ epoch: 'E', offset: 0 }, { messages: 10, bytes: 100 })).toEqual({
      from: 1,
      limit: 10,
      maxBytes: 100,
    });
  });

  it('is kept only when the start decision agrees: no reset, the same first offset', () => {
    const read = firstReadFor({ epoch: 'E', offset: 60 }, window);
    expect(PrefetchedRead.keep(read, result, decideStart(log, { epoch: 'E', offset: 60 }, 0))).toBeDefined();
    // Another epoch, a trimmed position, a position ahead of the head: a reset, read again.
    for (const position of [
      { epoch: 'F', offset: 60 },
      { epoch: 'E', offset: 10 },
      { epoch: 'E', offset: 200 },
    ]) {
      expect(PrefetchedRead.keep(read, result, decideStart(log, position, 0))).toBeUndefined();
    }
    expect(PrefetchedRead.keep(undefined, result, decideStart(log, undefined, 70))).toBeUndefined();
    expect(
      PrefetchedRead.keep(read, undefined, decideStart(log, { epoch: 'E', offset: 60 }, 0)),
    ).toBeUndefined();
  });

  it('answers the first read from its offset within bounds at least its own, once', () => {
    const read = firstReadFor({ epoch: 'E', offset: 60 }, window)!;
    const decision = decideStart(log, { epoch: 'E', offset: 60 }, 0);
    expect(PrefetchedRead.keep(read, result, decision)!.take(61, 1000, 128 * 1024)).toBe(result);
    expect(PrefetchedRead.keep(read, result, decision)!.take(62, 1000, 128 * 1024)).toBeUndefined();
    expect(PrefetchedRead.keep(read, result, decision)!.take(61, 100, 128 * 1024)).toBeUndefined();
    expect(PrefetchedRead.keep(read, result, decision)!.take(61, 1000, 1024)).toBeUndefined();
    const kept = PrefetchedRead.keep(read, result, decision)!;
    expect(kept.take(61, 1000, 128 * 1024)).toBe(result);
    expect(kept.take(61, 1000, 128 * 1024)).toBeUndefined();
  });
});
