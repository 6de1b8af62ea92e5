import { describe, expect, it } from 'vitest';
import { applyIdempotencyKey } from '../../shared/producer/src/idempotency.js';
import { newSessionId } from '../../shared/producer/src/session-id.js';
import { assertSessionId, isHoldfastError } from '@holdfast/protocol';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isHoldfastError(error) ? error.code : 'not a HoldfastError';
  }
  return undefined;
}

describe('applyIdempotencyKey', () => {
  it('leaves messages alone without a key', () => {
    expect(applyIdempotencyKey([{ data: 1 }, { data: 2, id: 'x' }], undefined, 'batch')).toEqual([
      { data: 1, id: undefined },
      { data: 2, id: 'x' },
    ]);
  });

  it('gives a single message the key as its id, unless it has its own', () => {
    expect(applyIdempotencyKey([{ data: 'a' }], 'reply-7', 'single')).toEqual([{ data: 'a', id: 'reply-7' }]);
    expect(applyIdempotencyKey([{ data: 'a', id: 'own' }], 'reply-7', 'single')).toEqual([
      { data: 'a', id: 'own' },
    ]);
  });

  it('gives message i of a batch `${key}.${i}`, unless it has its own id', () => {
    expect(
      applyIdempotencyKey([{ data: 0 }, { data: 1, id: 'own' }, { data: 2 }], 'turn-3', 'batch'),
    ).toEqual([
      { data: 0, id: 'turn-3.0' },
      { data: 1, id: 'own' },
      { data: 2, id: 'turn-3.2' },
    ]);
  });

  it('derives different ids for a single message and a batch of one (retries must keep the shape)', () => {
    const [single] = applyIdempotencyKey([{ data: 1 }], 'k', 'single');
    const [batch] = applyIdempotencyKey([{ data: 1 }], 'k', 'batch');
    expect([single?.id, batch?.id]).toEqual(['k', 'k.0']);
  });

  it('is deterministic: the same key and shape derive the same ids every time', () => {
    const messages = Array.from({ length: 20 }, (_, i) => ({ data: i }));
    expect(applyIdempotencyKey(messages, 'k', 'batch')).toEqual(applyIdempotencyKey(messages, 'k', 'batch'));
  });

  it('refuses keys that are not message ids', () => {
    for (const key of ['', 'a b', 'a:b', '{x}', 'ü', 'k'.repeat(129)]) {
      expect(
        codeOf(() => applyIdempotencyKey([{ data: 1 }], key, 'single')),
        key,
      ).toBe('invalid_message_id');
    }
  });

  it('refuses keys too long for the derived ids of the batch', () => {
    const ofLength = (n: number) => 'k'.repeat(n);
    const batch = (size: number) => Array.from({ length: size }, () => ({ data: 0 }));
    expect(codeOf(() => applyIdempotencyKey([{ data: 1 }], ofLength(128), 'single'))).toBeUndefined();
    expect(codeOf(() => applyIdempotencyKey(batch(1), ofLength(126), 'batch'))).toBeUndefined();
    expect(codeOf(() => applyIdempotencyKey(batch(1), ofLength(127), 'batch'))).toBe('invalid_message_id');
    expect(codeOf(() => applyIdempotencyKey(batch(11), ofLength(125), 'batch'))).toBeUndefined();
    expect(codeOf(() => applyIdempotencyKey(batch(11), ofLength(126), 'batch'))).toBe('invalid_message_id');
    const longest = applyIdempotencyKey(batch(1000), ofLength(124), 'batch').at(-1);
    expect(longest?.id).toHaveLength(128);
  });

  it('refuses an empty or missing list of messages, and a single publish of several', () => {
    expect(codeOf(() => applyIdempotencyKey([], 'k', 'batch'))).toBe('invalid_payload');
    expect(codeOf(() => applyIdempotencyKey('x' as never, 'k', 'batch'))).toBe('invalid_payload');
    expect(codeOf(() => applyIdempotencyKey([{ data: 1 }, { data: 2 }], 'k', 'single'))).toBe(
      'invalid_payload',
    );
  });
});

describe('newSessionId', () => {
  it('makes valid, URL-safe, distinct ids', () => {
    const ids = Array.from({ length: 1000 }, newSessionId);
    for (const id of ids) {
      assertSessionId(id);
      expect(encodeURIComponent(id)).toBe(id);
      // One in 64 would start with '-' (a flag to a command line) without the guard.
      expect(id.startsWith('-')).toBe(false);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
