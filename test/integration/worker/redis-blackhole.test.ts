import { afterAll, beforeAll, expect, it } from 'vitest';
import { InboundQueue } from '@holdfast/inbound-queue';
import { SessionLog } from '@holdfast/session-log';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { RedisServer, waitFor, WorkerProcess } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { readEnvelopes, send } from './worker-harness.js';

/**
 * Issue 14: a worker whose link to Redis forwards nothing and closes nothing. BullMQ's
 * connections would wait on it for good (the blocking fetch never returns); the probe declares
 * it dead within 4 s by default (8 s allowed: a loaded CI box), every connection reconnects,
 * and the worker takes jobs again once the link heals.
 */
const DEAD_WITHIN_MS = 8000;

let redis: RedisServer;
let link: FaultProxy;
let log: SessionLog;
let queue: InboundQueue;
let keyPrefix: string;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  redis = await RedisServer.start();
  link = await FaultProxy.start({ targetPort: redis.port });
  keyPrefix = uniqueId('w');
  log = new SessionLog({ redis: redis.url, keyPrefix });
  await log.ready();
  queue = new InboundQueue({ url: redis.url }, keyPrefix);
});
afterAll(async () => {
  link?.restore();
  await worker?.kill();
  await queue?.close();
  await log?.close();
  await link?.close();
  await redis?.destroy();
});

it('notices a blackholed link, reconnects, and runs inboxes again after heal', async () => {
  worker = await WorkerProcess.start({
    redisUrl: link.url('redis'),
    keyPrefix,
    env: { EXAMPLE_AGENT_DELTAS: '3' },
  });
  const replied = async (sessionId: string): Promise<boolean> =>
    (await readEnvelopes(log, sessionId)).some((e) => e.$holdfast === 'reply');

  const before = uniqueId();
  await log.createSession(before);
  await send(log, queue, before, 'm1', { text: 'before' });
  await waitFor(() => replied(before), { what: 'a reply before the cut' });

  link.blackhole('both');
  const cut = Date.now();
  await waitFor(() => worker!.output.includes('redis link dead'), {
    timeoutMs: DEAD_WITHIN_MS,
    what: 'the worker noticing the dead link',
  });
  expect(Date.now() - cut).toBeLessThan(DEAD_WITHIN_MS);
  const during = uniqueId();
  await log.createSession(during);
  await send(log, queue, during, 'm2', { text: 'during' });

  link.restore();
  await waitFor(() => replied(during), {
    timeoutMs: 30_000,
    what: 'a reply to the message sent during the cut',
  });
});
