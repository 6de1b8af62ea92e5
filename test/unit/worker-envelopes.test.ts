import { describe, expect, it } from 'vitest';
import {
  assertMessageId,
  attemptAbortedEnvelope,
  errorEnvelope,
  isWorkerEnvelope,
  replyEnvelope,
  truncate,
} from '@holdfast/protocol';
import { InboxRunExecution, attemptAbortedId, deadLetterId, replyId, retryDelayMs } from '@holdfast/worker';

describe('worker message ids', () => {
  it('derives reply and marker ids from seq, attempt, the writing run and index; dead letters from seq', () => {
    expect(replyId(7, 1, 0, 'tok')).toBe('in7.a1.rtok.i0');
    expect(replyId(7, 2, 15, 'tok')).toBe('in7.a2.rtok.i15');
    expect(attemptAbortedId(7, 1, 'tok')).toBe('in7.a1.rtok.aborted');
    expect(deadLetterId(7)).toBe('in7.dead');
  });

  it('gives every (seq, attempt, run, index) its own id, distinct from markers and dead letters', () => {
    const ids = new Set<string>();
    for (let seq = 1; seq <= 12; seq++) {
      for (let attempt = 1; attempt <= 12; attempt++) {
        for (const run of ['runA', 'runB']) {
          for (let index = 0; index < 12; index++) ids.add(replyId(seq, attempt, index, run));
          ids.add(attemptAbortedId(seq, attempt, run));
        }
      }
      ids.add(deadLetterId(seq));
    }
    expect(ids.size).toBe(2 * (12 * 12 * 12 + 12 * 12) + 12);
  });

  it('makes ids the session log accepts, even at the largest sequence numbers', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const token = new InboxRunExecution().token;
    for (const id of [replyId(max, 100, max, token), attemptAbortedId(max, 100, token), deadLetterId(max)]) {
      expect(() => assertMessageId(id)).not.toThrow();
    }
  });
});

describe('worker envelopes', () => {
  it('wraps replies, aborted attempts and errors so clients can attribute them', () => {
    expect(replyEnvelope('m-1', 2, { type: 'delta', text: 'Hi' })).toEqual({
      $holdfast: 'reply',
      messageId: 'm-1',
      attempt: 2,
      data: { type: 'delta', text: 'Hi' },
    });
    expect(attemptAbortedEnvelope('m-1', 1)).toEqual({
      $holdfast: 'attempt_aborted',
      messageId: 'm-1',
      attempt: 1,
    });
    expect(errorEnvelope('m-1', 'boom', 3)).toEqual({
      $holdfast: 'error',
      messageId: 'm-1',
      code: 'handler_failed',
      message: 'boom',
      attempts: 3,
    });
  });

  it('truncates long error messages to 1000 characters', () => {
    const message = errorEnvelope('m', 'x'.repeat(5000), 3).message;
    expect(message).toHaveLength(1000);
    expect(message.endsWith('…')).toBe(true);
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('abcdef', 4)).toBe('abc…');
  });

  it('recognises worker envelopes and nothing else', () => {
    expect(isWorkerEnvelope(replyEnvelope('m', 1, null))).toBe(true);
    expect(isWorkerEnvelope(attemptAbortedEnvelope('m', 1))).toBe(true);
    expect(isWorkerEnvelope(errorEnvelope('m', 'e', 1))).toBe(true);
    for (const other of [null, 'text', 42, { type: 'delta' }, { $holdfast: 'reply', messageId: 'm' }]) {
      expect(isWorkerEnvelope(other)).toBe(false);
    }
    expect(isWorkerEnvelope({ $holdfast: 'other', messageId: 'm', attempt: 1 })).toBe(false);
  });
});

describe('retry backoff', () => {
  it('doubles from the base, caps at the maximum, and jitters between half and all of it', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 100, 1000, () => 1))).toEqual([100, 200, 400, 800]);
    expect(retryDelayMs(10, 100, 1000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 100, 1000, () => 0)).toBe(200);
    expect(retryDelayMs(1, 0, 1000)).toBe(0);
  });
});
