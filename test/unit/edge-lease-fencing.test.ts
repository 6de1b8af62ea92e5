import { describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import type { HeldLease } from '@holdfast/session-log';
import { waitFor } from '@holdfast/testing';
import { failureOutcome, leaseLossNotice } from '../../services/edge/src/close-protocol.js';
import { EdgeLeaseRenewer } from '../../services/edge/src/lease-fencing.js';

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

describe('EdgeLeaseRenewer', () => {
  it('renews in one call per group (per slot on a Redis Cluster), answering each lease from its own call', async () => {
    const calls: string[][] = [];
    const links = {
      renewLease: () => Promise.resolve(undefined),
      renewLeases: (leases: readonly HeldLease[]) => {
        calls.push(leases.map((l) => l.sessionId));
        return Promise.resolve(leases.map((l) => l.generation));
      },
    };
    const slotOf: Record<string, number> = { a: 1, b: 2, c: 1 };
    const renewer = new EdgeLeaseRenewer(links, 150, (sessionId) => slotOf[sessionId] ?? 0);
    const confirmed = new Set<string>();
    for (const sessionId of ['a', 'b', 'c']) {
      renewer.keep(
        { sessionId, consumerId: 'default', generation: 1 },
        { onLeaseConfirmed: () => confirmed.add(sessionId), onLeaseLost: () => undefined },
      );
    }
    try {
      await waitFor(() => calls.length >= 2, { what: 'a renewal round' });
      expect(calls.slice(0, 2).sort()).toEqual([['a', 'c'], ['b']]);
    } finally {
      renewer.stop();
    }
  });
});
