import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONSUMER_ID, ErrorCode, type ResetPayload } from '@holdfast/protocol';
import { SessionLog, sessionKeys } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, tokenFor, waitFor } from '@holdfast/testing';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { RawClient, assertContiguous, type RawClientOptions } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';

const env = useEdgeEnvironment();

const clients: RawClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

interface Recording {
  readonly client: RawClient;
  /** Every event the edge sent, in arrival order. */
  readonly events: string[];
}

/** Connect and record the order of what the edge sends; fails on a refused handshake. */
async function connect(options: RawClientOptions, url = env.edge.url): Promise<Recording> {
  const client = new RawClient(url, options);
  clients.push(client);
  const events: string[] = [];
  client.socket.onAny((event: string) => events.push(event));
  await waitFor(() => client.hellos.length > 0 || client.connectError !== undefined, {
    what: 'hello or connect_error',
  });
  expect(client.connectError).toBeUndefined();
  return { client, events };
}

/** hello, then exactly one reset, then only batches: nothing is delivered before the reset. */
function expectResetBeforeAnyBatch(events: readonly string[]): void {
  expect(events.slice(0, 2)).toEqual(['hello', 'reset']);
  expect(events.slice(2).every((event) => event === 'batch')).toBe(true);
  expect(events.length).toBeGreaterThan(2);
}

function messages(from: number, to: number): Array<{ data: { n: number } }> {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ data: { n: from + i } }));
}

async function waitForStoredAck(sessionId: string, offset: number): Promise<void> {
  await waitFor(async () => (await env.log.info(sessionId)).acks['default'] === offset, {
    what: `the stored ack of consumer default to reach ${offset}`,
  });
}

describe('explicit resets at connection start', () => {
  it('a position older than retention kept gets reset "trimmed", then exactly the retained messages', async () => {
    const sessionId = uniqueId();
    const { epoch } = await env.log.createSession(sessionId, { retention: { maxMessages: 10 } });
    const token = await tokenFor(sessionId);

    const { client: first } = await connect({ sessionId, token });
    await env.log.appendBatch(sessionId, messages(1, 5));
    await first.waitForOffset(5);
    assertContiguous(first.delivered, 1, 5);
    await waitForStoredAck(sessionId, 5);
    first.close();

    await env.log.appendBatch(sessionId, messages(6, 35));
    expect(await env.log.info(sessionId)).toMatchObject({ head: 35, firstAvailable: 26, length: 10 });

    const { client, events } = await connect({ sessionId, token, position: { epoch, offset: 5 } });
    await client.waitForOffset(35);
    expect(client.hellos[0]).toMatchObject({ epoch, head: 35, startOffset: 26 });
    expect(client.resets).toEqual<ResetPayload[]>([
      { reason: 'trimmed', oldEpoch: epoch, newEpoch: epoch, firstAvailable: 26, resumeFrom: 26 },
    ]);
    assertContiguous(client.delivered, 26, 35);
    expect(client.delivered.map((d) => d.data)).toEqual(messages(26, 35).map((m) => m.data));
    expect(client.delivered.every((d) => d.epoch === epoch)).toBe(true);
    expectResetBeforeAnyBatch(events);
  });

  it('without a position, a stored ack older than retention kept also gets reset "trimmed"', async () => {
    const sessionId = uniqueId();
    const { epoch } = await env.log.createSession(sessionId, { retention: { maxMessages: 10 } });
    const token = await tokenFor(sessionId);

    const { client: first } = await connect({ sessionId, token });
    await env.log.appendBatch(sessionId, messages(1, 5));
    await first.waitForOffset(5);
    await waitForStoredAck(sessionId, 5);
    first.close();
    await env.log.appendBatch(sessionId, messages(6, 35));

    const { client, events } = await connect({ sessionId, token });
    await client.waitForOffset(35);
    expect(client.hellos[0]).toMatchObject({ epoch, ackedOffset: 5, startOffset: 26 });
    expect(client.resets).toEqual<ResetPayload[]>([
      { reason: 'trimmed', oldEpoch: epoch, newEpoch: epoch, firstAvailable: 26, resumeFrom: 26 },
    ]);
    assertContiguous(client.delivered, 26, 35);
    expectResetBeforeAnyBatch(events);
  });

  it('a position beyond the head gets reset "ahead_of_head", then delivery from the first available', async () => {
    const sessionId = uniqueId();
    const { epoch } = await env.log.createSession(sessionId);
    await env.log.appendBatch(sessionId, messages(1, 3));

    const { client, events } = await connect({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch, offset: 1000 },
    });
    await client.waitForOffset(3);
    expect(client.hellos[0]).toMatchObject({ epoch, head: 3, startOffset: 1 });
    expect(client.resets).toEqual<ResetPayload[]>([
      { reason: 'ahead_of_head', oldEpoch: epoch, newEpoch: epoch, firstAvailable: 1, resumeFrom: 1 },
    ]);
    assertContiguous(client.delivered, 1, 3);
    expectResetBeforeAnyBatch(events);

    // Delivery goes on live after the reset.
    await env.log.append(sessionId, { n: 4 });
    await client.waitForOffset(4);
    assertContiguous(client.delivered, 1, 4);
  });

  it('a position in another epoch gets reset "epoch_changed", then the whole retained log', async () => {
    const sessionId = uniqueId();
    const { epoch } = await env.log.createSession(sessionId);
    await env.log.appendBatch(sessionId, messages(1, 5));

    const { client, events } = await connect({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch: 'not-the-epoch', offset: 3 },
    });
    await client.waitForOffset(5);
    expect(client.hellos[0]).toMatchObject({ epoch, head: 5, startOffset: 1 });
    expect(client.resets).toEqual<ResetPayload[]>([
      {
        reason: 'epoch_changed',
        oldEpoch: 'not-the-epoch',
        newEpoch: epoch,
        firstAvailable: 1,
        resumeFrom: 1,
      },
    ]);
    assertContiguous(client.delivered, 1, 5);
    expect(client.delivered.every((d) => d.epoch === epoch)).toBe(true);
    expectResetBeforeAnyBatch(events);
  });

  it('without a position, delivery starts after the stored ack, with no reset', async () => {
    const sessionId = uniqueId();
    const { epoch } = await env.log.createSession(sessionId);
    const token = await tokenFor(sessionId);

    const { client: a } = await connect({ sessionId, token });
    expect(a.hellos[0]).toMatchObject({ consumerId: 'default', startOffset: 1, ackedOffset: 0 });
    await env.log.appendBatch(sessionId, messages(1, 20));
    await a.waitForOffset(20);
    assertContiguous(a.delivered, 1, 20);
    await waitForStoredAck(sessionId, 20);
    a.close();

    const { client: b, events } = await connect({ sessionId, token });
    expect(b.hellos[0]).toMatchObject({ epoch, head: 20, startOffset: 21, ackedOffset: 20 });
    await env.log.append(sessionId, { n: 21 });
    await b.waitForOffset(21);
    expect(b.delivered).toEqual([{ epoch, offset: 21, data: { n: 21 } }]);
    expect(b.resets).toEqual([]);
    expect(events).toEqual(['hello', 'batch']);
  });
});

describe('session end', () => {
  it('a session ended while connected sends session_ended, disconnects, and refuses reconnects', async () => {
    const sessionId = uniqueId();
    await env.log.createSession(sessionId);
    const token = await tokenFor(sessionId);
    const { client } = await connect({ sessionId, token });
    await env.log.appendBatch(sessionId, messages(1, 3));
    await client.waitForOffset(3);

    await env.log.endSession(sessionId);
    const notice = await waitFor(() => client.notice('session_ended'), { what: 'the session_ended notice' });
    expect(notice.code).toBe(ErrorCode.SessionEnded);
    expect(notice.message).toEqual(expect.any(String));
    expect(await client.waitForDisconnect()).toBe('io server disconnect');
    expect(client.notices.map((n) => n.event)).toEqual(['session_ended']);
    assertContiguous(client.delivered, 1, 3);

    const again = new RawClient(env.edge.url, { sessionId, token, position: client.position });
    clients.push(again);
    await waitFor(() => again.connectError ?? again.hellos[0], { what: 'hello or connect_error' });
    expect(again.hellos).toEqual([]);
    expect(again.connectError?.message).toBe(ErrorCode.SessionEnded);
    expect(again.connectError?.data?.code).toBe(ErrorCode.SessionEnded);
  });
});

describe('a real epoch change (Redis restarted under appendfsync everysec, AOF tail lost)', () => {
  let lossyRedis: RedisServer;
  let lossyEdge: EdgeProcess;
  let lossyLog: SessionLog;

  beforeAll(async () => {
    lossyRedis = await RedisServer.start({ appendfsync: 'everysec' });
    lossyLog = new SessionLog({ redis: lossyRedis.url });
    await lossyLog.ready();
    lossyEdge = await EdgeProcess.start({ redisUrl: lossyRedis.url });
  });
  afterAll(async () => {
    await lossyEdge?.stop();
    await lossyLog?.close();
    await lossyRedis?.destroy();
  });

  it('the client gets reset "epoch_changed" to a new epoch, then the log and new appends in it', async () => {
    const sessionId = uniqueId();
    const { epoch: oldEpoch } = await lossyLog.createSession(sessionId);
    const token = await tokenFor(sessionId);
    // No acks: the AOF then ends with the last appends, which the truncation below loses.
    const { client: first } = await connect({ sessionId, token, autoAck: false }, lossyEdge.url);
    await lossyLog.appendBatch(sessionId, messages(1, 10));
    for (let n = 11; n <= 20; n++) await lossyLog.append(sessionId, { n });
    await first.waitForOffset(20);
    assertContiguous(first.delivered, 1, 20);
    expect((await lossyLog.info(sessionId)).durable).toBe(false);
    const oldPosition = first.position;
    expect(oldPosition).toEqual({ epoch: oldEpoch, offset: 20 });

    await lossyRedis.kill();
    await lossyRedis.truncateAofTail(200);
    await lossyRedis.restart();

    // The edge may keep the connection (and reset it in place once Redis answers again) or
    // drop it (drain after losing Redis, or a fault): then reconnect from the last position,
    // retrying while the edge refuses (connect_error) until it serves again.
    let current = first;
    const reset = await waitFor(
      () => {
        const found = current.resets.find((r) => r.reason === 'epoch_changed');
        if (found) return found;
        if (current.disconnectReason !== undefined || current.connectError !== undefined) {
          current.close();
          current = new RawClient(lossyEdge.url, { sessionId, token, position: oldPosition });
          clients.push(current);
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'a reset with reason epoch_changed' },
    );
    expect(reset.oldEpoch).toBe(oldEpoch);
    expect(reset.newEpoch).not.toBe(oldEpoch);
    expect(reset.firstAvailable).toBe(1);
    expect(reset.resumeFrom).toBe(reset.firstAvailable);

    const newEpoch = reset.newEpoch;
    const info = await waitFor(() => lossyLog.info(sessionId), { what: 'the session log to reconnect' });
    expect(info.epoch).toBe(newEpoch);
    // The lost tail held the last append: offset 20 is reused below, which only a new epoch makes safe.
    expect(info.head).toBeLessThan(20);

    // New appends are delivered under the new epoch, after the retained env.log.
    const appended = await waitFor(
      () => lossyLog.append(sessionId, { after: 'restart' }, { id: 'after-restart' }),
      { timeoutMs: 15_000, what: 'an append after the restart' },
    );
    expect(appended).toEqual({ epoch: newEpoch, offset: info.head + 1, duplicate: false });
    const client = current;
    await waitFor(() => client.delivered.some((d) => d.epoch === newEpoch && d.offset === appended.offset), {
      timeoutMs: 15_000,
      what: `offset ${appended.offset} in the new epoch`,
    });
    const inNewEpoch = client.delivered.filter((d) => d.epoch === newEpoch);
    assertContiguous(inNewEpoch, reset.resumeFrom, appended.offset);
    expect(inNewEpoch.at(-1)?.data).toEqual({ after: 'restart' });
    expect(first.delivered.find((d) => d.offset === appended.offset)).toEqual({
      epoch: oldEpoch,
      offset: appended.offset,
      data: { n: appended.offset },
    });
    // Everything delivered before the reset was in the old epoch, everything after in the new.
    const firstNew = client.delivered.findIndex((d) => d.epoch === newEpoch);
    expect(client.delivered.slice(0, firstNew).every((d) => d.epoch === oldEpoch)).toBe(true);
    expect(client.delivered.slice(firstNew).every((d) => d.epoch === newEpoch)).toBe(true);

    // An ack of the old epoch sent before the client saw the reset (the chaos suite caught the
    // SDK's crossing it on the wire) is stale, not a client error: ignored, no invalid_ack.
    client.ack(20, oldEpoch);
    client.ack(appended.offset, newEpoch);
    await waitFor(async () => (await lossyLog.info(sessionId)).acks['default'] === appended.offset, {
      what: 'the new-epoch ack to be stored after the stale one',
    });
    expect(client.notices.filter((n) => n.payload.code === ErrorCode.InvalidAck)).toEqual([]);
  });
});

describe('a Redis restored from an older snapshot (no persistence: the lease generation goes back)', () => {
  let snapshotRedis: RedisServer;
  let snapshotEdge: EdgeProcess;
  let snapshotLog: SessionLog;

  beforeAll(async () => {
    snapshotRedis = await RedisServer.start({ appendonly: false });
    snapshotLog = new SessionLog({ redis: snapshotRedis.url });
    await snapshotLog.ready();
    // Lease checks every 0.5 s, so one runs soon after Redis is back.
    snapshotEdge = await EdgeProcess.start({ redisUrl: snapshotRedis.url, env: { LEASE_MS: '1500' } });
  });
  afterAll(async () => {
    await snapshotEdge?.stop();
    await snapshotLog?.close();
    await snapshotRedis?.destroy();
  });

  it('a live connection whose lease Redis lost is moved (retryable fault), not told it was replaced', async () => {
    const sessionId = uniqueId();
    await snapshotLog.createSession(sessionId);
    await snapshotRedis.client().save(); // the snapshot: the session, no lease yet
    const client = new RawClient(snapshotEdge.url, { sessionId, token: await tokenFor(sessionId) });
    clients.push(client);
    await waitFor(() => client.hellos.length > 0, { what: 'hello' });

    await snapshotRedis.kill();
    await snapshotRedis.restart(); // loads the snapshot: the connection's claim is gone
    // Nobody else connected: `replaced` (a stop for the SDK) would be a lie. The edge must end
    // the connection with a retryable code, so the client reconnects and claims again.
    const notice = await waitFor(
      () => client.notices.find((n) => ['replaced', 'fault', 'drain'].includes(n.event)),
      { timeoutMs: 15_000, what: 'the edge to react to the lost lease' },
    );
    expect(notice.event).not.toBe('replaced');
    expect(notice.payload.code).toBe(
      notice.event === 'drain' ? ErrorCode.ServerDraining : ErrorCode.RedisUnavailable,
    );
  });
});

describe('an ack fenced by a lease generation that went back (Redis lost the claim)', () => {
  let slowLeaseEdge: EdgeProcess;

  beforeAll(async () => {
    // Lease checks every 200 s: within the test only the ack can find the lost claim.
    slowLeaseEdge = await EdgeProcess.start({ redisUrl: env.redis.url, env: { LEASE_MS: '600000' } });
  });
  afterAll(async () => {
    await slowLeaseEdge?.stop();
  });

  it('is answered with a retryable fault, not replaced, and a reconnect resumes where it was', async () => {
    const { sessionId, token } = await env.newSession();
    await env.log.append(sessionId, { n: 1 });
    const { client } = await connect({ sessionId, token, autoAck: false }, slowLeaseEdge.url);
    await waitFor(() => client.delivered.length > 0, { what: 'the first batch' });
    // What a restore from older data does to the claim (the real restore is tested above).
    await env.redis.client().hset(sessionKeys('hf', sessionId).meta, `lease:${DEFAULT_CONSUMER_ID}`, '0');

    client.ack(1);
    const notice = await waitFor(() => client.notices.find((n) => ['replaced', 'fault'].includes(n.event)), {
      what: 'the edge to answer the fenced ack',
    });
    expect(notice).toMatchObject({ event: 'fault', payload: { code: ErrorCode.RedisUnavailable } });

    // Nobody else holds the session: a reconnect claims it again and is served.
    const again = await connect({ sessionId, token, autoAck: false }, slowLeaseEdge.url);
    await waitFor(() => again.client.delivered.length > 0, { what: 'delivery after reconnecting' });
    expect(again.client.notices.filter((n) => n.event === 'replaced')).toEqual([]);
  });
});
