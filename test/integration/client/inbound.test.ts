import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  createReplyAssembler,
  memoryStore,
  type AttemptAbortedEvent,
  type ConnectOptions,
  type HoldfastSession,
  type InboundErrorEvent,
} from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { tokenFor, waitFor, WorkerProcess } from '@holdfast/testing';
import { readEnvelopes } from '../worker/worker-harness.js';

/** Echoes `data`, or throws when `data.fail` (every attempt). */
const HANDLER_DIR = mkdtempSync(join(tmpdir(), 'holdfast-inbound-'));
const FAILING_OR_ECHO = join(HANDLER_DIR, 'handler.mjs');
writeFileSync(
  FAILING_OR_ECHO,
  `export default async (ctx) => {
  if (ctx.message.data && ctx.message.data.fail) throw new Error('no luck with ' + ctx.message.id);
  await ctx.publish({ echo: ctx.message.data });
};
`,
);
const FAST_RECOVERY = { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };
const DELTAS = 40;

const cluster = useClientCluster();
const workers: WorkerProcess[] = [];
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.kill()));
});
afterAll(async () => {
  await proxy?.close();
});

async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const worker = await WorkerProcess.start({ redisUrl: cluster.redis.url, keyPrefix: 'hf', env });
  workers.push(worker);
  return worker;
}

async function openSession(
  url: string,
  options: Partial<ConnectOptions> = {},
): Promise<{ session: HoldfastSession; sessionId: string }> {
  const sessionId = options.sessionId ?? (await cluster.newSession()).sessionId;
  const session = cluster.track(
    connect(url, { sessionId, token: await tokenFor(sessionId), retryStrategy: () => 50, ...options }),
  );
  return { session, sessionId };
}

/** The reply envelopes in the log, as `messageId:attempt`. */
async function replyIds(sessionId: string): Promise<string[]> {
  return (await readEnvelopes(cluster.log, sessionId))
    .filter((e) => e.$holdfast === 'reply')
    .map((e) => `${e.messageId}:${e.$holdfast === 'reply' ? e.attempt : 0}`);
}

type AgentPart = { type: 'delta' | 'final'; text: string };

describe('inbound messages through the client', () => {
  it('kill -9 of the worker mid-reply: the assembler ends with one complete reply, after attempt 1 was aborted', async () => {
    const edge = await cluster.sharedEdge();
    await startWorker({
      ...FAST_RECOVERY,
      EXAMPLE_AGENT_DELTAS: String(DELTAS),
      EXAMPLE_AGENT_DELAY_MS: '100',
    });
    const { session } = await openSession(edge.url);
    const aborted: AttemptAbortedEvent[] = [];
    session.on('attempt_aborted', (event) => void aborted.push(event));
    let partsOfAttempt1 = 0;
    const assembler = createReplyAssembler<AgentPart>({
      isFinal: (data) => data.type === 'final',
      onChange: (reply) => {
        if (reply.attempt === 1) partsOfAttempt1 = reply.parts.length;
      },
    });
    assembler.attach(session);

    const { id } = await session.send({ text: 'tell me about durable sessions' });
    await waitFor(() => partsOfAttempt1 >= 5, { what: 'the first deltas at the client' });
    await workers[0]!.kill();
    await startWorker({
      ...FAST_RECOVERY,
      EXAMPLE_AGENT_DELTAS: String(DELTAS),
      EXAMPLE_AGENT_DELAY_MS: '2',
    });

    const reply = await Promise.race([
      assembler.settled(id),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no complete reply')), 20_000)),
    ]);
    expect(reply.error).toBeUndefined();
    expect(reply).toMatchObject({ messageId: id, attempt: 2, complete: true, abortedAttempts: [1] });
    expect(reply.parts).toHaveLength(DELTAS + 1);
    const deltas = reply.parts.slice(0, -1);
    expect(deltas.every((p) => p.type === 'delta')).toBe(true);
    expect(reply.parts.at(-1)).toEqual({ type: 'final', text: deltas.map((p) => p.text).join('') });
    expect(aborted.map((a) => [a.messageId, a.attempt])).toEqual([[id, 1]]);
    expect(assembler.all()).toHaveLength(1);
  });

  it('a resent id is handled once', async () => {
    const edge = await cluster.sharedEdge();
    await startWorker({ HANDLER_MODULE: FAILING_OR_ECHO });
    const { session, sessionId } = await openSession(edge.url);
    const first = await session.send({ text: 'once' }, { id: 'same-id' });
    const again = await session.send({ text: 'twice?' }, { id: 'same-id' });
    expect(first).toMatchObject({ id: 'same-id', duplicate: false });
    expect(again).toEqual({ id: 'same-id', seq: first.seq, duplicate: true });
    // Concurrent resends too.
    const both = await Promise.all([session.send(1, { id: 'x.1' }), session.send(1, { id: 'x.1' })]);
    expect(both.map((r) => r.duplicate)).toEqual([false, true]);
    await session.send({ text: 'after' }, { id: 'after' });

    await waitFor(async () => (await replyIds(sessionId)).includes('after:1'), { what: 'the last reply' });
    expect(await replyIds(sessionId)).toEqual(['same-id:1', 'x.1:1', 'after:1']);
    const envelopes = await readEnvelopes(cluster.log, sessionId);
    expect(envelopes[0]).toMatchObject({ data: { echo: { text: 'once' } } }); // the first data wins
  });

  it('a handler that always throws: inbound_error names the message, and the next message still runs', async () => {
    const edge = await cluster.sharedEdge();
    await startWorker({ HANDLER_MODULE: FAILING_OR_ECHO, MAX_ATTEMPTS: '2', RETRY_BASE_MS: '10' });
    const { session } = await openSession(edge.url);
    const errors: InboundErrorEvent[] = [];
    session.on('inbound_error', (event) => void errors.push(event));
    const assembler = createReplyAssembler<{ echo: unknown }>({ isFinal: () => true });
    assembler.attach(session);

    const bad = await session.send({ fail: true });
    const good = await session.send({ text: 'fine' });
    const failed = await assembler.settled(bad.id);
    expect(failed.error).toEqual({ code: 'handler_failed', message: `no luck with ${bad.id}`, attempts: 2 });
    expect(errors.map((e) => [e.messageId, e.code, e.attempts])).toEqual([[bad.id, 'handler_failed', 2]]);
    expect(errors[0]!.message).toContain(bad.id);
    const ok = await assembler.settled(good.id);
    expect(ok).toMatchObject({ complete: true, attempt: 1, parts: [{ echo: { text: 'fine' } }] });
    expect(ok.error).toBeUndefined();
  });

  it('the outbox survives a restart: sends made while the edge is unreachable are replayed by a new session', async () => {
    const edge = await cluster.sharedEdge();
    await startWorker({ HANDLER_MODULE: FAILING_OR_ECHO });
    proxy = await FaultProxy.start({ targetPort: edge.port });
    proxy.refuseNew(true);
    proxy.resetAll();
    const store = memoryStore();
    const { session: first, sessionId } = await openSession(proxy.url(), { store });
    const pending = ['p1', 'p2', 'p3', 'p4', 'p5'].map((id, n) =>
      first.send({ n }, { id }).then(
        () => 'accepted',
        (error: { code: string }) => error.code,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300)); // attempts fail meanwhile
    expect(first.state).not.toBe('open');
    expect(first.pendingSends).toBe(5);
    await first.close();
    expect(await Promise.all(pending)).toEqual(Array(5).fill('session_closed'));
    expect((await store.loadOutbox!(sessionId))?.map((e) => e.id)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);

    proxy.refuseNew(false);
    const { session: second } = await openSession(proxy.url(), { store, sessionId });
    const later = await second.send({ n: 5 }, { id: 'p6' }); // after the replayed ones
    expect(later).toMatchObject({ id: 'p6', seq: 6, duplicate: false });
    expect(second.pendingSends).toBe(0);
    expect(await store.loadOutbox!(sessionId)).toBeUndefined();
    await waitFor(async () => (await replyIds(sessionId)).length >= 6, { what: 'six replies' });
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more comes
    expect(await replyIds(sessionId)).toEqual(['p1:1', 'p2:1', 'p3:1', 'p4:1', 'p5:1', 'p6:1']);
  });
});
