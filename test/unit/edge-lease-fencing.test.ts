import { describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { failureOutcome, leaseLossNotice } from '../../services/edge/src/close-protocol.js';

describe('leaseLossNotice', () => {
  it('ends a rolled-back connection with a retryable fault and a taken-over one with replaced', () => {
    expect(leaseLossNotice('rolled_back')).toMatchObject({
      event: 'fault',
      notice: { code: ErrorCode.RedisUnavailable },
    });
    expect(leaseLossNotice('fenced')).toMatchObject({
      event: 'replaced',
      notice: { code: ErrorCode.Replaced },
    });
  });
});

describe('failureOutcome', () => {
  it("applies the session log's fencing rule to a fenced ack (a reply without a generation is a takeover)", () => {
    const fenced = (generation: number): HoldfastError =>
      new HoldfastError(ErrorCode.Replaced, 'fenced', { details: { generation } });
    expect(failureOutcome(fenced(3), 5)).toMatchObject({ kind: 'close', close: { event: 'fault' } });
    expect(failureOutcome(fenced(7), 5)).toMatchObject({ kind: 'close', close: { event: 'replaced' } });
    const bare = new HoldfastError(ErrorCode.Replaced, 'fenced');
    expect(failureOutcome(bare, 5)).toMatchObject({ kind: 'close', close: { event: 'replaced' } });
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
