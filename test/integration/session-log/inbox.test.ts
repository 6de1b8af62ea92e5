import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '@holdfast/testing';
import { sessionLogFactory, uniqueId } from '../../helpers/session-log-fixture.js';

let server: RedisServer;
const logs = sessionLogFactory(() => server);

beforeAll(async () => {
  server = await RedisServer.start();
});
afterEach(() => logs.closeAll());
afterAll(() => server.destroy());

describe('inbound inbox', () => {
  it('sequences messages, dedupes resends by id, and schedules one inbox run at a time', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);

    const a = await log.enqueueInbound(sessionId, { id: 'm1', data: { text: 'hi' } });
    const again = await log.enqueueInbound(sessionId, { id: 'm1', data: { text: 'hi (resent)' } });
    const b = await log.enqueueInbound(sessionId, { id: 'm2', data: 'second', consumerId: 'phone' });
    expect(a).toEqual({ seq: 1, duplicate: false, round: 1, generation: 1 });
    expect(again).toEqual({ seq: 1, duplicate: true, round: 1, generation: 1 });
    expect(b).toEqual({ seq: 2, duplicate: false, round: 1, generation: 1 });

    const first = await log.nextInbound(sessionId, 1, 'run-A');
    expect(first).toEqual({
      kind: 'message',
      seq: 1,
      id: 'm1',
      data: { text: 'hi' },
      consumerId: 'default',
      attempt: 1,
      previousAttemptPublished: false,
    });
    expect(await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-A', kind: 'done' })).toBe(
      true,
    );
    expect(await log.nextInbound(sessionId, 1, 'run-A')).toMatchObject({ kind: 'message', seq: 2, id: 'm2' });
    expect(await log.stepInbound(sessionId, { round: 1, seq: 2, runToken: 'run-A', kind: 'done' })).toBe(
      true,
    );
    expect(await log.nextInbound(sessionId, 1, 'run-A')).toEqual({ kind: 'idle' });

    // Round 1 is over: the next message opens round 2, and runs of round 1 are stale.
    expect(await log.enqueueInbound(sessionId, { id: 'm3', data: 3 })).toEqual({
      seq: 3,
      duplicate: false,
      round: 2,
      generation: 2,
    });
    expect(await log.nextInbound(sessionId, 1, 'run-A')).toEqual({ kind: 'stale' });
    expect(await log.nextInbound(sessionId, 2, 'run-B')).toMatchObject({ kind: 'message', seq: 3 });
  });

  it('counts restarts of a message as attempts and tells whether the last one published', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.enqueueInbound(sessionId, { id: 'prompt', data: 'go' });

    const first = await log.nextInbound(sessionId, 1, 'run-1');
    expect(first).toMatchObject({ attempt: 1, previousAttemptPublished: false });
    expect(await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-1', kind: 'publish' })).toBe(
      true,
    );
    // run-1 dies mid-reply; BullMQ runs the inbox run again as run-2, which takes the message over.
    const second = await log.nextInbound(sessionId, 1, 'run-2');
    expect(second).toMatchObject({ seq: 1, attempt: 2, previousAttemptPublished: true });
    // The old run is fenced: it may neither publish nor complete.
    expect(await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-1', kind: 'publish' })).toBe(
      false,
    );
    expect(await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-1', kind: 'done' })).toBe(
      false,
    );
    // An attempt that published nothing leaves nothing to discard.
    expect(await log.nextInbound(sessionId, 1, 'run-3')).toMatchObject({
      attempt: 3,
      previousAttemptPublished: false,
    });
  });

  it('refuses inbound messages for unknown and ended sessions, and ending a session clears its inbox', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await expect(log.enqueueInbound(sessionId, { id: 'x', data: 1 })).rejects.toMatchObject({
      code: 'session_not_found',
    });
    await log.createSession(sessionId);
    await log.enqueueInbound(sessionId, { id: 'x', data: 1 });
    await log.endSession(sessionId);
    await expect(log.enqueueInbound(sessionId, { id: 'y', data: 1 })).rejects.toMatchObject({
      code: 'session_ended',
    });
    expect(await log.nextInbound(sessionId, 1, 'run')).toMatchObject({ kind: 'ended' });
    expect(await server.client().keys(`${log.options.keyPrefix}:{*`)).toEqual([log.keys(sessionId).tomb]);
  });

  it('validates inbound ids and payloads', async () => {
    const log = await logs.open({ maxPayloadBytes: 100 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await expect(log.enqueueInbound(sessionId, { id: 'a:b', data: 1 })).rejects.toMatchObject({
      code: 'invalid_message_id',
    });
    await expect(log.enqueueInbound(sessionId, { id: 'big', data: 'x'.repeat(200) })).rejects.toMatchObject({
      code: 'payload_too_large',
    });
  });
});
