import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  INBOUND_QUEUE_NAME,
  InboundQueue,
  LEGACY_INBOX_RUN_JOB_NAME,
  bullPrefix,
  inboxRunJobId,
} from '@holdfast/inbound-queue';
import type { SessionLog } from '@holdfast/session-log';
import {
  DEAD_LETTER_CLEANUP,
  RETENTION_SWEEP,
  DeadLetterStream,
  InboxRunExecution,
  InboxWorker,
  FencedError,
  MAINTENANCE_QUEUE_NAME,
  runInbox,
  type InboxWorkerOptions,
  type Handler,
} from '@holdfast/worker';
import { RedisServer, waitFor } from '@holdfast/testing';
import { sessionLogFactory, uniqueId } from '../../helpers/session-log-fixture.js';
import { inboxSettled, readAll, readEnvelopes, send } from './worker-harness.js';

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

/** A session log and queue under a fresh key prefix, and an in-process worker on them. */
async function setup(
  handler: Handler,
  options: Partial<InboxWorkerOptions> = {},
): Promise<{ log: SessionLog; queue: InboundQueue; worker: InboxWorker }> {
  const log = await logs.open({ inboundRatePerSession: 0 });
  const keyPrefix = log.options.keyPrefix;
  const queue = new InboundQueue({ url: server.url }, keyPrefix);
  const worker = await InboxWorker.start({
    redisUrl: server.url,
    keyPrefix,
    handler,
    retryBaseMs: 10,
    maintenance: false,
    ...options,
  });
  closers.push(
    () => worker.close(),
    () => queue.close(),
  );
  return { log, queue, worker };
}

async function newSession(log: SessionLog): Promise<string> {
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  return sessionId;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('worker inbox run', () => {
  it('still runs a job queued under the old name ("drain") before the rename', async () => {
    const handled: string[] = [];
    const { log } = await setup(async (ctx) => {
      handled.push(ctx.message.id);
      await ctx.publish({ echo: ctx.message.data });
    });
    const sessionId = await newSession(log);
    const { generation } = await log.enqueueInbound(sessionId, {
      id: 'old-1',
      data: 'queued before the upgrade',
    });
    // What an edge of the previous version submitted: same queue, same job id, the old name.
    const legacy = new Queue(INBOUND_QUEUE_NAME, {
      connection: { url: server.url },
      prefix: bullPrefix(log.options.keyPrefix),
    });
    closers.push(() => legacy.close());
    expect(LEGACY_INBOX_RUN_JOB_NAME).toBe('drain');
    await legacy.add(
      LEGACY_INBOX_RUN_JOB_NAME,
      { sessionId, generation },
      { jobId: inboxRunJobId(sessionId, generation), removeOnComplete: true, removeOnFail: true },
    );
    await waitFor(() => inboxSettled(redis, log, sessionId), { what: 'the legacy job to run the inbox' });
    expect(handled).toEqual(['old-1']);
    expect(await readEnvelopes(log, sessionId)).toHaveLength(1);
  });

  it('handles a message exactly once; its replies land enveloped, in order, with derived ids', async () => {
    const calls: Array<{ id: string; attempt: number }> = [];
    const { log, queue } = await setup(async (ctx) => {
      calls.push({ id: ctx.message.id, attempt: ctx.attempt });
      await ctx.publish({ n: 1, echo: ctx.message.data });
      await ctx.publishBatch([{ n: 2 }, { n: 3 }]);
    });
    const sessionId = await newSession(log);
    await send(log, queue, sessionId, 'm1', { text: 'hi' });
    await waitFor(() => inboxSettled(redis, log, sessionId), { what: 'the inbox to be drained' });

    expect(calls).toEqual([{ id: 'm1', attempt: 1 }]);
    expect(await readAll(log, sessionId)).toEqual([
      { $holdfast: 'reply', messageId: 'm1', attempt: 1, data: { n: 1, echo: { text: 'hi' } } },
      { $holdfast: 'reply', messageId: 'm1', attempt: 1, data: { n: 2 } },
      { $holdfast: 'reply', messageId: 'm1', attempt: 1, data: { n: 3 } },
    ]);
    const stored = await redis.xrange(log.keys(sessionId).log, '-', '+');
    const ids = stored.map(([, fields]) => fields[fields.indexOf('i') + 1]);
    // Derived from seq, attempt, the writing run's token and the index (envelopes.ts).
    const token = /^in1\.a1\.r([A-Za-z0-9_-]{16})\.i0$/.exec(ids[0] ?? '')?.[1];
    expect(token, `ids ${ids.join(', ')}`).toBeDefined();
    expect(ids).toEqual([`in1.a1.r${token}.i0`, `in1.a1.r${token}.i1`, `in1.a1.r${token}.i2`]);
  });

  it('handles each session strictly in send order, one at a time, while sessions run in parallel', async () => {
    const spans = new Map<string, Array<{ n: number; start: number; end: number }>>();
    const { log, queue } = await setup(
      async (ctx) => {
        const start = performance.now();
        await delay(Math.floor(Math.random() * 4));
        await ctx.publish({ n: (ctx.message.data as { n: number }).n });
        const list = spans.get(ctx.sessionId) ?? [];
        list.push({ n: (ctx.message.data as { n: number }).n, start, end: performance.now() });
        spans.set(ctx.sessionId, list);
      },
      { concurrency: 8 },
    );
    const sessions = [await newSession(log), await newSession(log)];
    const count = 50;
    // Both sessions' messages are interleaved in sending, so both inbox runs are busy at once.
    for (let n = 1; n <= count; n++) {
      for (const sessionId of sessions) await send(log, queue, sessionId, `m${n}`, { n });
    }
    for (const sessionId of sessions) {
      await waitFor(() => inboxSettled(redis, log, sessionId), {
        timeoutMs: 20_000,
        what: `session ${sessionId} to be drained`,
      });
    }

    for (const sessionId of sessions) {
      const list = spans.get(sessionId)!;
      expect(list.map((s) => s.n)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      for (let i = 1; i < list.length; i++) expect(list[i]!.start).toBeGreaterThanOrEqual(list[i - 1]!.end);
      const replies = await readEnvelopes(log, sessionId);
      expect(replies.map((r) => (r.$holdfast === 'reply' ? (r.data as { n: number }).n : -1))).toEqual(
        list.map((s) => s.n),
      );
    }
    const [a, b] = sessions.map((s) => spans.get(s)!);
    const overlapping = a!.some((x) => b!.some((y) => x.start < y.end && y.start < x.end));
    expect(overlapping).toBe(true);
  });

  it('handles a resent message id once', async () => {
    const calls: string[] = [];
    const { log, queue } = await setup(async (ctx) => {
      calls.push(ctx.message.id);
      await ctx.publish({ got: ctx.message.data });
    });
    const sessionId = await newSession(log);
    const first = await send(log, queue, sessionId, 'dup', 1);
    const again = await send(log, queue, sessionId, 'dup', 'resent');
    expect(again).toMatchObject({ seq: first.seq, duplicate: true });
    await send(log, queue, sessionId, 'other', 2);
    await waitFor(() => inboxSettled(redis, log, sessionId), { what: 'the inbox to be drained' });
    // A resend after the message was handled is acknowledged and not handled again either.
    expect(await send(log, queue, sessionId, 'dup', 'late')).toMatchObject({ seq: 1, duplicate: true });
    await waitFor(() => inboxSettled(redis, log, sessionId), { what: 'the inbox to stay drained' });

    expect(calls).toEqual(['dup', 'other']);
    expect(await readEnvelopes(log, sessionId)).toEqual([
      { $holdfast: 'reply', messageId: 'dup', attempt: 1, data: { got: 1 } },
      { $holdfast: 'reply', messageId: 'other', attempt: 1, data: { got: 2 } },
    ]);
  });

  it('retries a failing handler with new attempts, dead-letters it after maxAttempts, and goes on', async () => {
    const attempts: Array<{ id: string; attempt: number }> = [];
    const { log, queue } = await setup(
      async (ctx) => {
        attempts.push({ id: ctx.message.id, attempt: ctx.attempt });
        await ctx.publish({ partial: ctx.attempt });
        if (ctx.message.id === 'bad') throw new Error(`model unavailable ${'!'.repeat(2000)}`);
      },
      { maxAttempts: 3 },
    );
    const sessionId = await newSession(log);
    await send(log, queue, sessionId, 'bad', { text: 'boom' });
    await send(log, queue, sessionId, 'good', { text: 'fine' });
    await waitFor(() => inboxSettled(redis, log, sessionId), { what: 'the inbox to be drained' });

    expect(attempts).toEqual([
      { id: 'bad', attempt: 1 },
      { id: 'bad', attempt: 2 },
      { id: 'bad', attempt: 3 },
      { id: 'good', attempt: 1 },
    ]);
    const envelopes = await readEnvelopes(log, sessionId);
    expect(envelopes.slice(0, 5)).toEqual([
      { $holdfast: 'reply', messageId: 'bad', attempt: 1, data: { partial: 1 } },
      { $holdfast: 'attempt_aborted', messageId: 'bad', attempt: 1 },
      { $holdfast: 'reply', messageId: 'bad', attempt: 2, data: { partial: 2 } },
      { $holdfast: 'attempt_aborted', messageId: 'bad', attempt: 2 },
      { $holdfast: 'reply', messageId: 'bad', attempt: 3, data: { partial: 3 } },
    ]);
    const error = envelopes[5];
    expect(error).toMatchObject({
      $holdfast: 'error',
      messageId: 'bad',
      code: 'handler_failed',
      attempts: 3,
    });
    expect(error?.$holdfast === 'error' && error.message.startsWith('model unavailable !!')).toBe(true);
    expect(error?.$holdfast === 'error' && error.message.length).toBe(1000);
    expect(envelopes[6]).toEqual({ $holdfast: 'reply', messageId: 'good', attempt: 1, data: { partial: 1 } });

    const letters = await new DeadLetterStream(redis, log.options.keyPrefix).list();
    expect(letters).toEqual([
      expect.objectContaining({
        sessionId,
        seq: 1,
        messageId: 'bad',
        consumerId: 'default',
        attempts: 3,
        data: { text: 'boom' },
      }),
    ]);
  });

  it('dead-letters without running it a message whose every allowed attempt was interrupted (poison)', async () => {
    const calls: string[] = [];
    const log = await logs.open({ inboundRatePerSession: 0 });
    const sessionId = await newSession(log);
    const poison = await log.enqueueInbound(sessionId, { id: 'poison', data: { text: 'crash me' } });
    // Three runs took the message and died mid-attempt (as if it crashed their worker each time).
    for (const run of ['crashed-1', 'crashed-2', 'crashed-3']) {
      expect(await log.nextInbound(sessionId, poison.generation, run)).toMatchObject({ kind: 'message' });
    }
    const keyPrefix = log.options.keyPrefix;
    const queue = new InboundQueue({ url: server.url }, keyPrefix);
    const worker = await InboxWorker.start({
      redisUrl: server.url,
      keyPrefix,
      maxAttempts: 3,
      maintenance: false,
      handler: async (ctx) => {
        calls.push(ctx.message.id);
        await ctx.publish('handled');
      },
    });
    closers.push(
      () => worker.close(),
      () => queue.close(),
    );
    await send(log, queue, sessionId, 'next', {});
    await waitFor(() => inboxSettled(redis, log, sessionId), { what: 'the inbox to be drained' });

    expect(calls).toEqual(['next']);
    expect(await readEnvelopes(log, sessionId)).toEqual([
      {
        $holdfast: 'error',
        messageId: 'poison',
        code: 'handler_failed',
        message: 'attempt 3 was interrupted (its worker stopped or crashed) and no attempts are left',
        attempts: 3,
      },
      { $holdfast: 'reply', messageId: 'next', attempt: 1, data: 'handled' },
    ]);
  });

  it('fences a run that lost its message to another run: nothing more is published, the run stops', async () => {
    const log = await logs.open();
    const sessionId = await newSession(log);
    const accepted = await log.enqueueInbound(sessionId, { id: 'm', data: 'x' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let publishError: unknown;
    let signalReason: unknown;
    const deps = {
      log,
      deadLetters: { record: () => Promise.resolve() },
      retry: { maxAttempts: 3, baseMs: 1, maxMs: 1 },
      report: () => undefined,
    };
    const runA = new InboxRunExecution();
    const outcomeA = runInbox({ sessionId, generation: accepted.generation }, runA, {
      ...deps,
      handler: async (ctx) => {
        await ctx.publish('from A, before');
        await released;
        await ctx.publish('from A, after').catch((error: unknown) => {
          publishError = error;
          signalReason = ctx.signal.reason;
          throw error;
        });
      },
    });
    await waitFor(async () => (await readAll(log, sessionId)).length === 1, { what: "A's first reply" });
    // BullMQ wrongly thought A's worker died and runs the inbox run again as B.
    const runB = new InboxRunExecution();
    const outcomeB = runInbox({ sessionId, generation: accepted.generation }, runB, {
      ...deps,
      handler: async (ctx) => {
        await ctx.publish(`from B, attempt ${ctx.attempt}`);
      },
    });
    expect(await outcomeB).toBe('idle');
    release();
    expect(await outcomeA).toBe('fenced');
    expect(publishError).toBeInstanceOf(FencedError);
    expect(signalReason).toBeInstanceOf(FencedError);
    expect(await readEnvelopes(log, sessionId)).toEqual([
      { $holdfast: 'reply', messageId: 'm', attempt: 1, data: 'from A, before' },
      { $holdfast: 'attempt_aborted', messageId: 'm', attempt: 1 },
      { $holdfast: 'reply', messageId: 'm', attempt: 2, data: 'from B, attempt 2' },
    ]);
  });

  it('schedules the dead-letter cleanup and the retention sweep once per deployment; the cleanup deletes old dead letters', async () => {
    const { log } = await setup(async () => undefined, { maintenance: true });
    const keyPrefix = log.options.keyPrefix;
    // A second worker upserts the same scheduler: still one.
    const second = await InboxWorker.start({
      redisUrl: server.url,
      keyPrefix,
      handler: async () => undefined,
    });
    closers.push(() => second.close());
    const queue = new Queue(MAINTENANCE_QUEUE_NAME, {
      connection: { url: server.url },
      prefix: bullPrefix(keyPrefix),
    });
    closers.push(() => queue.close());
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toHaveLength(2);
    expect(schedulers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: DEAD_LETTER_CLEANUP, every: 3_600_000 }),
        expect.objectContaining({ key: RETENTION_SWEEP, every: 600_000 }),
      ]),
    );

    const letters = new DeadLetterStream(redis, keyPrefix);
    const letter = {
      sessionId: 's',
      seq: 1,
      messageId: 'm',
      consumerId: 'c',
      attempts: 3,
      error: 'e',
      data: 1,
    };
    await redis.xadd(letters.key, `${Date.now() - 8 * 24 * 3600 * 1000}-0`, 'session', 'old');
    await letters.record(letter);
    expect(await letters.trim(7 * 24 * 3600 * 1000)).toBe(1);
    expect(await letters.list()).toEqual([expect.objectContaining(letter)]);
  });
});
