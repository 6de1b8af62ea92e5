import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { InboundQueue } from '@holdfast/inbound-queue';
import { InboxWorker, resubmitOrphanedInboxRuns } from '@holdfast/worker';
import { RedisServer, waitFor } from '@holdfast/testing';
import { sessionLogFactory, uniqueId } from '../../helpers/session-log-fixture.js';
import { inboxSettled, readEnvelopes, send } from './worker-harness.js';

/**
 * An inbox run job lost while its inbox still holds messages (Redis restored from a snapshot or an
 * AOF cut taken between the inbox write and the job's submission, or a job removed after its
 * last attempt failed) must not leave those messages unanswered for good: the workers' inbox
 * sweep re-submits it. Found by the chaos suite's long profile (docs/reliability.md).
 */
let server: RedisServer;
let redis: Redis;
const logs = sessionLogFactory(() => server);
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await RedisServer.start();
  redis = server.client();
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await logs.closeAll();
});
afterAll(() => server.destroy());

it('a worker re-submits the inbox run of an inbox whose job was lost, and the prompts are answered once', async () => {
  const log = await logs.open({ inboundRatePerSession: 0 });
  const keyPrefix = log.options.keyPrefix;
  const queue = new InboundQueue({ url: server.url }, keyPrefix);
  closers.push(() => queue.close());
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  // The state a data loss leaves: the inbox holds the messages and names their inbox run, and the
  // job that was submitted for it is gone.
  const first = await log.enqueueInbound(sessionId, { id: 'p1', data: 'one' });
  await log.enqueueInbound(sessionId, { id: 'p2', data: 'two' });
  expect(first.generation).toBeGreaterThan(0);
  expect(await queue.inboxRunExists(sessionId, first.generation)).toBe(false);

  const handled: string[] = [];
  const worker = await InboxWorker.start({
    redisUrl: server.url,
    keyPrefix,
    maintenance: false,
    inboxSweepEveryMs: 200,
    handler: async (ctx) => {
      handled.push(ctx.message.id);
      await ctx.publish({ reply: ctx.message.data });
    },
  });
  closers.unshift(() => worker.close());

  await waitFor(() => inboxSettled(redis, log, sessionId), {
    timeoutMs: 10_000,
    what: 'the orphaned inbox to be drained by a re-submitted job',
  });
  expect(handled).toEqual(['p1', 'p2']);
  expect(await readEnvelopes(log, sessionId)).toEqual([
    { $holdfast: 'reply', messageId: 'p1', attempt: 1, data: { reply: 'one' } },
    { $holdfast: 'reply', messageId: 'p2', attempt: 1, data: { reply: 'two' } },
  ]);

  // Later sends start a new inbox run as usual; the sweep leaves live inbox runs alone.
  await send(log, queue, sessionId, 'p3', 'three');
  await waitFor(() => inboxSettled(redis, log, sessionId), { timeoutMs: 10_000, what: 'p3 to be handled' });
  expect(handled).toEqual(['p1', 'p2', 'p3']);
});

it('the sweep re-submits only inbox runs missing in two passes in a row, and re-submitting is idempotent', async () => {
  const log = await logs.open({ inboundRatePerSession: 0 });
  const queue = new InboundQueue({ url: server.url }, log.options.keyPrefix);
  closers.push(() => queue.close());
  const orphan = uniqueId();
  const live = uniqueId();
  const idle = uniqueId();
  for (const id of [orphan, live, idle]) await log.createSession(id);
  const lost = await log.enqueueInbound(orphan, { id: 'a', data: 1 });
  await send(log, queue, live, 'b', 2);

  const deps = {
    scanSessions: (cursor: string) => log.scanSessions(cursor),
    inboxProgress: async (sessionId: string) => {
      const [seq, done, sched] = await redis.hmget(log.keys(sessionId).inboxState, 'seq', 'done', 'sched');
      return seq === null ? undefined : { seq: Number(seq), done: Number(done), scheduled: Number(sched) };
    },
    inboxRunExists: (sessionId: string, generation: number) => queue.inboxRunExists(sessionId, generation),
    submitInboxRun: (sessionId: string, generation: number) => queue.submitInboxRun(sessionId, generation),
  };
  // First seen missing: only a suspect (the edge may be about to submit it).
  const first = await resubmitOrphanedInboxRuns(deps);
  expect(first.resubmitted).toEqual([]);
  expect([...first.suspects]).toEqual([`${orphan}@${lost.generation}`]);
  expect(await queue.inboxRunExists(orphan, lost.generation)).toBe(false);
  // Still missing a pass later: orphaned, re-submitted.
  const second = await resubmitOrphanedInboxRuns(deps, first.suspects);
  expect(second.resubmitted).toEqual([{ sessionId: orphan, generation: lost.generation, pending: 1 }]);
  expect(await queue.inboxRunExists(orphan, lost.generation)).toBe(true);
  // The job now exists (no worker runs here): a further pass finds nothing to do.
  const third = await resubmitOrphanedInboxRuns(deps, second.suspects);
  expect(third).toEqual({ resubmitted: [], suspects: new Set() });
});
