import { describe, expect, it } from 'vitest';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

const own = useOwnRedisServer();
const logs = own.logs;

describe('inbound inbox', () => {
  it('sequences messages, dedupes resends by id, and schedules one inbox run at a time', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);

    const { epoch } = await log.info(sessionId);
    const a = await log.enqueueInbound(sessionId, { id: 'm1', data: { text: 'hi' } });
    const again = await log.enqueueInbound(sessionId, { id: 'm1', data: { text: 'hi (resent)' } });
    const b = await log.enqueueInbound(sessionId, { id: 'm2', data: 'second', consumerId: 'phone' });
    expect(a).toEqual({ seq: 1, duplicate: false, round: 1, generation: 1, epoch });
    expect(again).toEqual({ seq: 1, duplicate: true, round: 1, generation: 1, epoch });
    expect(b).toEqual({ seq: 2, duplicate: false, round: 1, generation: 1, epoch });

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
    expect(
      await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-A', kind: 'done' }),
    ).toMatchObject({
      owned: true,
    });
    expect(await log.nextInbound(sessionId, 1, 'run-A')).toMatchObject({ kind: 'message', seq: 2, id: 'm2' });
    expect(
      await log.stepInbound(sessionId, { round: 1, seq: 2, runToken: 'run-A', kind: 'done' }),
    ).toMatchObject({
      owned: true,
    });
    expect(await log.nextInbound(sessionId, 1, 'run-A')).toEqual({ kind: 'idle' });

    // Round 1 is over: the next message opens round 2, and runs of round 1 are stale.
    expect(await log.enqueueInbound(sessionId, { id: 'm3', data: 3 })).toEqual({
      seq: 3,
      duplicate: false,
      round: 2,
      generation: 2,
      epoch,
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
    expect(
      await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-1', kind: 'publish' }),
    ).toMatchObject({
      owned: true,
    });
    // run-1 dies mid-reply; BullMQ runs the inbox run again as run-2, which takes the message over.
    const second = await log.nextInbound(sessionId, 1, 'run-2');
    expect(second).toMatchObject({ seq: 1, attempt: 2, previousAttemptPublished: true });
    // The old run is fenced: it may neither publish nor complete.
    expect(
      await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-1', kind: 'publish' }),
    ).toMatchObject({
      owned: false,
    });
    expect(
      await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-1', kind: 'done' }),
    ).toMatchObject({
      owned: false,
    });
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
    expect(await own.server.client().keys(`${log.options.keyPrefix}:{*`)).toEqual([log.keys(sessionId).tomb]);
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

  it('names the Redis process that answered a step, and an append bound to another one writes nothing', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.enqueueInbound(sessionId, { id: 'm1', data: 'q' });
    await log.nextInbound(sessionId, 1, 'run-A');
    const step = await log.stepInbound(sessionId, { round: 1, seq: 1, runToken: 'run-A', kind: 'publish' });
    const runId = /run_id:(\w+)/.exec(await own.server.client().info('server'))?.[1];
    expect(step).toEqual({ owned: true, serverRunId: runId });

    // Another process's run id stands for a restart between the step and the append.
    await expect(
      log.appendBatch(sessionId, [{ id: 'r1', data: 'stray' }], { onServer: 'f'.repeat(40) }),
    ).rejects.toMatchObject({ code: 'redis_unavailable', retryable: true });
    expect((await log.info(sessionId)).head).toBe(0);
    const [written] = await log.appendBatch(sessionId, [{ id: 'r1', data: 'reply' }], {
      onServer: step.serverRunId,
    });
    expect(written).toMatchObject({ offset: 1, duplicate: false });
  });

  it("refuses a step of an attempt whose output went to an epoch that is no longer the session's", async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    await log.enqueueInbound(sessionId, { id: 'm1', data: 'q' });
    await log.nextInbound(sessionId, 1, 'run-A');
    const step = { round: 1, seq: 1, runToken: 'run-A' } as const;
    expect(await log.stepInbound(sessionId, { ...step, kind: 'publish', attemptEpoch: epoch })).toMatchObject(
      {
        owned: true,
      },
    );
    // An epoch the attempt's output went to that is not the session's (Redis lost it since).
    const gone = 'e'.repeat(epoch.length);
    for (const kind of ['publish', 'done'] as const) {
      expect(await log.stepInbound(sessionId, { ...step, kind, attemptEpoch: gone })).toMatchObject({
        owned: false,
        rewoundTo: epoch,
      });
    }
    // Refused steps changed nothing: the run still owns the message and settles it.
    expect(await log.stepInbound(sessionId, { ...step, kind: 'done', attemptEpoch: epoch })).toMatchObject({
      owned: true,
    });
    expect(await own.server.client().hmget(log.keys(sessionId).inboxState, 'done', 'cur')).toEqual([
      '1',
      '0',
    ]);
  });
});
