/**
 * Storing an inbound message is a write to the session like an append, so it obeys the epoch
 * rule (lua/lib.lua): on a Redis that can lose it, a durable epoch ends before the message is
 * written. Otherwise a crash that lost the message (and nothing else of the session) kept the
 * epoch: no client would ever learn that an acknowledged message was gone.
 *
 * Real Redis restarted from `appendfsync always` (durable) onto `everysec` (not durable).
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '@holdfast/testing';
import type { InboundAccepted } from '@holdfast/session-log';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

const own = useOwnRedisServer({ appendonly: true, appendfsync: 'always' });
const logs = own.logs;

describe('enqueueInbound and the epoch rule', () => {
  it('answers with the epoch in force, unchanged on the same Redis process', async () => {
    const log = await logs.open({ inboundRatePerSession: 0 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const { epoch } = await log.info(sessionId);
    const first = await log.enqueueInbound(sessionId, { id: 'm1', data: 1 });
    const resend = await log.enqueueInbound(sessionId, { id: 'm1', data: 1 });
    expect(first).toMatchObject({ seq: 1, duplicate: false, epoch });
    expect(resend).toMatchObject({ seq: 1, duplicate: true, epoch });
  });

  it('ends a durable epoch before storing a message on a Redis that can lose it', async () => {
    const log = await logs.open({ inboundRatePerSession: 0 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const durableEpoch = (await log.info(sessionId)).epoch;

    await own.server.restart({ appendfsync: 'everysec' });
    // The first call after the restart may meet the closed connection; the same id is stored once.
    let accepted: InboundAccepted | undefined;
    await waitFor(
      async () => {
        accepted = await log.enqueueInbound(sessionId, { id: 'm1', data: 1 }).catch(() => undefined);
        return accepted !== undefined;
      },
      { timeoutMs: 15_000, what: 'the message to be stored on the restarted Redis' },
    );
    expect(accepted?.epoch).not.toBe(durableEpoch);
    // The rotation was the message's own: the log is in that epoch now, and stays there.
    expect((await log.info(sessionId)).epoch).toBe(accepted?.epoch);
    await own.server.restart({ appendfsync: 'always' });
  });
});
