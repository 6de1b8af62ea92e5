import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InboundQueue } from '@holdfast/inbound-queue';
import { SessionLog } from '@holdfast/session-log';
import type { ReplyEnvelope, WorkerEnvelope } from '@holdfast/protocol';
import { RedisServer, waitFor, WorkerProcess } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { readEnvelopes, send } from './worker-harness.js';

/**
 * Real worker processes running the example agent, killed or stopped mid-reply. Short BullMQ
 * locks make a dead worker's inbox run resume within seconds instead of 30 s.
 */
const FAST_RECOVERY = { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };
const DELTAS = 40;

let redis: RedisServer;
let log: SessionLog;
let queue: InboundQueue;
let keyPrefix: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  keyPrefix = uniqueId('w');
  log = new SessionLog({ redis: redis.url, keyPrefix });
  await log.ready();
  queue = new InboundQueue({ url: redis.url }, keyPrefix);
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.kill()));
});
afterAll(async () => {
  await queue?.close();
  await log?.close();
  await redis?.destroy();
});

async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const worker = await WorkerProcess.start({
    redisUrl: redis.url,
    keyPrefix,
    env: { ...FAST_RECOVERY, EXAMPLE_AGENT_DELTAS: String(DELTAS), ...env },
  });
  workers.push(worker);
  return worker;
}

type Delta = { type: 'delta'; text: string };
type Final = { type: 'final'; text: string };

function repliesOf(envelopes: WorkerEnvelope[], attempt: number): Array<ReplyEnvelope<Delta | Final>> {
  return envelopes.filter(
    (e): e is ReplyEnvelope<Delta | Final> => e.$holdfast === 'reply' && e.attempt === attempt,
  );
}

/**
 * The log holds: attempt 1's partial output, then the marker discarding it, then attempt 2's
 * complete reply, ending in the only final message.
 */
function expectResumedReply(envelopes: WorkerEnvelope[], messageId: string): void {
  const marker = envelopes.findIndex((e) => e.$holdfast === 'attempt_aborted');
  expect(envelopes.filter((e) => e.$holdfast === 'attempt_aborted')).toEqual([
    { $holdfast: 'attempt_aborted', messageId, attempt: 1 },
  ]);
  expect(envelopes.some((e) => e.$holdfast === 'error')).toBe(false);
  const first = repliesOf(envelopes, 1);
  const second = repliesOf(envelopes, 2);
  expect(first.length).toBeGreaterThan(0);
  expect(first.every((e) => e.data.type === 'delta' && e.messageId === messageId)).toBe(true);
  expect(envelopes.slice(0, marker)).toEqual(first);
  expect(envelopes.slice(marker + 1)).toEqual(second);

  const finals = envelopes.filter(
    (e) => e.$holdfast === 'reply' && (e.data as Delta | Final).type === 'final',
  );
  expect(finals).toHaveLength(1);
  const deltas = second.slice(0, -1);
  expect(deltas).toHaveLength(DELTAS);
  expect(second.at(-1)!.data).toEqual({ type: 'final', text: deltas.map((d) => d.data.text).join('') });
  expect(second.at(-1)!.data.text.startsWith('(attempt 2)')).toBe(true);
}

async function startPrompt(): Promise<{ sessionId: string; messageId: string }> {
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  const messageId = uniqueId('prompt');
  await send(log, queue, sessionId, messageId, { text: 'tell me about durable sessions' });
  // Mid-reply: some deltas are in the log, the final is far off.
  await waitFor(async () => (await readEnvelopes(log, sessionId)).length >= 10, {
    what: 'the first deltas of the reply',
  });
  return { sessionId, messageId };
}

describe('worker processes', () => {
  it('kill -9 mid-reply: another worker resumes the message; one complete final reply follows the aborted marker', async () => {
    const victim = await startWorker({ EXAMPLE_AGENT_DELAY_MS: '100' });
    const { sessionId, messageId } = await startPrompt();
    await victim.kill();
    await startWorker({ EXAMPLE_AGENT_DELAY_MS: '2' });

    await waitFor(async () => repliesOf(await readEnvelopes(log, sessionId), 2).length === DELTAS + 1, {
      timeoutMs: 20_000,
      what: "the second attempt's complete reply",
    });
    expectResumedReply(await readEnvelopes(log, sessionId), messageId);
  });

  it('SIGTERM mid-reply: the worker exits 0 within its grace and another worker finishes the message', async () => {
    const stopping = await startWorker({ EXAMPLE_AGENT_DELAY_MS: '100', SHUTDOWN_TIMEOUT_MS: '300' });
    const { sessionId, messageId } = await startPrompt();
    const successor = startWorker({ EXAMPLE_AGENT_DELAY_MS: '2' });
    const signalledAt = Date.now();
    stopping.signal('SIGTERM');
    expect(await stopping.waitForExit()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5_000);
    expect(stopping.output).toContain('"msg":"worker stopped"');
    await successor;

    await waitFor(async () => repliesOf(await readEnvelopes(log, sessionId), 2).length === DELTAS + 1, {
      timeoutMs: 20_000,
      what: "the second attempt's complete reply",
    });
    expectResumedReply(await readEnvelopes(log, sessionId), messageId);
  });

  it('refuses to start with a bad setting, naming the variable (exit 2)', async () => {
    const worker = WorkerProcess.spawn({
      redisUrl: redis.url,
      keyPrefix,
      env: { HANDLER_MODULE: './test/fixtures/worker-not-a-handler.ts', MAX_ATTEMPTS: '2' },
    });
    expect(await worker.waitForExit()).toEqual({ code: 2, signal: null });
    expect(worker.output).toMatch(/HANDLER_MODULE: .*default export/);
  });
});
