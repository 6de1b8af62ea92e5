import { describe, expect, it } from 'vitest';
import { DEFAULT_SIZE_LIMITS, limitsFrom, oversize } from '../../shared/client/src/send-limits.js';
import { tokenFailure } from '../../shared/client/src/token-failures.js';
import { HoldfastError } from '../../shared/protocol/src/index.js';

describe('oversize', () => {
  const limits = { maxPayloadBytes: 100, maxFrameBytes: 1000 };
  it('lets a message within the limits through, counting UTF-8 bytes', () => {
    expect(oversize('m1', 'x'.repeat(98), limits)).toBeUndefined(); // 100 bytes with the quotes
    expect(oversize('m1', 'é'.repeat(50), limits)?.code).toBe('payload_too_large'); // 102 bytes
  });
  it('refuses above the payload limit and above the frame limit', () => {
    expect(oversize('m1', 'x'.repeat(99), limits)?.code).toBe('payload_too_large');
    expect(
      oversize('m1', 'x'.repeat(600), { maxPayloadBytes: 10_000, maxFrameBytes: 1000 })?.message,
    ).toMatch(/frame/);
  });
  it('leaves data that is not JSON to the edge', () => {
    expect(oversize('m1', () => 1, limits)).toBeUndefined();
  });
});

describe('limitsFrom', () => {
  it('takes valid limits from hello and falls back to the defaults otherwise', () => {
    expect(limitsFrom({ maxPayloadBytes: 5, maxFrameBytes: 9 })).toEqual({
      maxPayloadBytes: 5,
      maxFrameBytes: 9,
    });
    expect(limitsFrom(undefined)).toEqual(DEFAULT_SIZE_LIMITS);
    expect(limitsFrom({ maxPayloadBytes: -1, maxFrameBytes: 'x' })).toEqual(DEFAULT_SIZE_LIMITS);
  });
});

describe('tokenFailure', () => {
  it('stops at once on a stop code from any error with a code', () => {
    expect(tokenFailure(new HoldfastError('session_ended', 'gone'), 1, 8)).toMatchObject({
      code: 'session_ended',
      action: 'stop',
    });
    expect(tokenFailure(Object.assign(new Error('x'), { code: 'session_completed' }), 1, 8).action).toBe(
      'stop',
    );
  });
  it('retries other failures until the bound, then stops with token_unavailable', () => {
    expect(tokenFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 1, 3)).toMatchObject({
      code: 'token_unavailable',
      action: 'retry',
    });
    expect(tokenFailure(new Error('503'), 2, 3).action).toBe('retry');
    expect(tokenFailure(new Error('503'), 3, 3)).toMatchObject({ code: 'token_unavailable', action: 'stop' });
    expect(tokenFailure('nope', 5, Infinity).action).toBe('retry');
  });
});
