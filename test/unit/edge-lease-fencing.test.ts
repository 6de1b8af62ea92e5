import { describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { failureOutcome, leaseLossNotice } from '../../services/edge/src/close-protocol.js';
import { fencedBy } from '../../services/edge/src/lease-fencing.js';

describe('fencedBy', () => {
  it('reads a lower generation as Redis rolling back, anything else as a takeover', () => {
    expect(fencedBy(5, 4)).toBe('rolled_back');
    expect(fencedBy(5, 0)).toBe('rolled_back');
    expect(fencedBy(5, 6)).toBe('lost');
    expect(fencedBy(5, undefined)).toBe('lost');
    expect(fencedBy(5, '4')).toBe('lost');
  });

  it('ends a rolled-back connection with a retryable fault and a taken-over one with replaced', () => {
    expect(leaseLossNotice('rolled_back')).toMatchObject({
      event: 'fault',
      notice: { code: ErrorCode.RedisUnavailable },
    });
    expect(leaseLossNotice('lost')).toMatchObject({
      event: 'replaced',
      notice: { code: ErrorCode.Replaced },
    });
  });
});

describe('failureOutcome', () => {
  it('applies the fencing rule to a fenced ack', () => {
    const fenced = (generation: number): HoldfastError =>
      new HoldfastError(ErrorCode.Replaced, 'fenced', { details: { generation } });
    expect(failureOutcome(fenced(3), 5)).toMatchObject({ kind: 'close', close: { event: 'fault' } });
    expect(failureOutcome(fenced(7), 5)).toMatchObject({ kind: 'close', close: { event: 'replaced' } });
  });

  it('waits for the end notice after a delete, and ends otherwise', () => {
    const deleted = new HoldfastError(ErrorCode.SessionEnded, 'gone', { details: { reason: 'deleted' } });
    expect(failureOutcome(deleted, 1)).toEqual({ kind: 'await_end_notice', message: 'gone' });
    expect(failureOutcome(new HoldfastError(ErrorCode.SessionNotFound, 'no such session'), 1)).toEqual({
      kind: 'close',
      close: { event: 'session_ended', notice: { code: ErrorCode.SessionEnded, message: 'no such session' } },
    });
    expect(failureOutcome(new Error('boom'), 1)).toEqual({
      kind: 'close',
      close: {
        event: 'fault',
        notice: {
          code: ErrorCode.RedisUnavailable,
          message: 'the edge failed to serve this session; reconnect',
        },
      },
    });
  });
});
