import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HoldfastError,
  assertConsumerId,
  assertMessageId,
  assertOffset,
  assertSessionId,
  errorActions,
  integerOptionProblem,
  isConsumerId,
  isMessageId,
  isSessionId,
  isRetryable,
  validateIntegerOption,
} from '@holdfast/protocol';
import { encodeMessage } from '../../shared/session-log/src/payload.js';
import { resolveOptions } from '../../shared/session-log/src/options.js';
import { sessionKeys } from '@holdfast/session-log';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof HoldfastError ? error.code : 'not a HoldfastError';
  }
}

describe('identifiers', () => {
  it('accepts safe ids and rejects everything that means something to Redis or is not ASCII', () => {
    expect(codeOf(() => assertSessionId('abc-DEF_123'))).toBeUndefined();
    expect(codeOf(() => assertMessageId('job-1.a2.i3'))).toBeUndefined();
    expect(codeOf(() => assertConsumerId('phone'))).toBeUndefined();
    const bad = [
      '',
      'a b',
      'a*b',
      'a{b',
      'a}b',
      'a:b',
      'a\nb',
      'é',
      '\ud800',
      'x'.repeat(129),
      42,
      null,
      undefined,
      {},
    ];
    for (const value of bad) {
      expect([isSessionId(value), isConsumerId(value), isMessageId(value)]).toEqual([false, false, false]);
      expect(codeOf(() => assertSessionId(value))).toBe(ErrorCode.InvalidSessionId);
      expect(codeOf(() => assertConsumerId(value))).toBe(ErrorCode.InvalidConsumerId);
      expect(codeOf(() => assertMessageId(value))).toBe(ErrorCode.InvalidMessageId);
    }
    expect(codeOf(() => assertSessionId('a.b'))).toBe(ErrorCode.InvalidSessionId);
    expect(codeOf(() => assertSessionId('x'.repeat(65)))).toBe(ErrorCode.InvalidSessionId);
    expect([isSessionId('abc-DEF_123'), isConsumerId('phone'), isMessageId('job-1.a2.i3')]).toEqual([
      true,
      true,
      true,
    ]);
    expect([isSessionId('a.b'), isMessageId('a.b'), isMessageId('x'.repeat(128))]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('accepts offsets that are non-negative safe integers only', () => {
    for (const ok of [0, 1, Number.MAX_SAFE_INTEGER]) expect(codeOf(() => assertOffset(ok))).toBeUndefined();
    for (const bad of [-1, 1.5, 2 ** 60, NaN, Infinity, '1', null]) {
      expect(codeOf(() => assertOffset(bad))).toBe(ErrorCode.InvalidOffset);
    }
  });

  it('gives every code an action', () => {
    for (const code of Object.values(ErrorCode)) expect(errorActions[code]).toBeDefined();
    expect(isRetryable(ErrorCode.RedisUnavailable)).toBe(true);
    expect(isRetryable(ErrorCode.SessionEnded)).toBe(false);
  });
});

describe('session log building blocks', () => {
  it('hash-tags every key of a session with its partition, and names the session in each', () => {
    const keys = sessionKeys('hf', 'abc');
    for (const key of Object.values(keys)) expect(key).toMatch(/^hf:\{p\d{3}\}:(s|live):abc(:|$)/);
  });

  it('measures payloads in UTF-8 bytes of their JSON', () => {
    expect(encodeMessage({ data: 'é' }, 10)).toEqual({ id: '', json: '"é"', bytes: 4 });
    expect(codeOf(() => encodeMessage({ data: 'é'.repeat(5) }, 10))).toBe(ErrorCode.PayloadTooLarge);
    expect(codeOf(() => encodeMessage({ data: () => 1 }, 10))).toBe(ErrorCode.InvalidPayload);
  });

  it('rejects out-of-range options by name', () => {
    expect(() => resolveOptions({ redis: 'redis://x', keyPrefix: 'a:b' })).toThrow(/keyPrefix/);
    expect(() => resolveOptions({ redis: 'redis://x', dedupeWindowMs: 0 })).toThrow(/dedupeWindowMs/);
    expect(() => resolveOptions({ redis: 'redis://x', retention: { maxMessages: -1 } })).toThrow(
      /retention.maxMessages/,
    );
    expect(resolveOptions({ redis: 'redis://x' }).retention).toEqual({
      maxMessages: 100_000,
      maxAgeMs: 86_400_000,
    });
  });
});

describe('integer options', () => {
  it('accepts safe integers within bounds and names the option, its bounds and the value otherwise', () => {
    expect(validateIntegerOption('limit', 5, { min: 1, max: 10 })).toBe(5);
    expect(validateIntegerOption('idleTtlMs', 0)).toBe(0);
    expect(integerOptionProblem('idleTtlMs', -1)).toBe('idleTtlMs must be an integer >= 0, got -1');
    expect(integerOptionProblem('limit', 11, { min: 1, max: 10 })).toBe(
      'limit must be an integer from 1 to 10, got 11',
    );
    for (const bad of [1.5, NaN, Infinity, 2 ** 60, '3', null, undefined]) {
      expect(integerOptionProblem('n', bad), String(bad)).toMatch(/^n must be an integer >= 0, got /);
      expect(codeOf(() => validateIntegerOption('n', bad))).toBe(ErrorCode.InvalidOptions);
    }
  });
});
