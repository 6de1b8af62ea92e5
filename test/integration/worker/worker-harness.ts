import type { Redis } from 'ioredis';
import type { InboundQueue } from '@holdfast/inbound-queue';
import type { SessionLog } from '@holdfast/session-log';
import { waitFor, type RedisServer } from '@holdfast/testing';
import { isWorkerEnvelope, type WorkerEnvelope } from '@holdfast/protocol';

/** What the edge does for a client's `send`: store the message, then schedule its inbox run. */
export async function send(
  log: SessionLog,
  queue: InboundQueue,
  sessionId: string,
  id: string,
  data: unknown,
): Promise<{ seq: number; duplicate: boolean; generation: number }> {
  const accepted = await log.enqueueInbound(sessionId, { id, data });
  if (accepted.generation > 0) await queue.submitInboxRun(sessionId, accepted.generation);
  return accepted;
}

/** Every entry of a session's log, in offset order. */
export async function readAll(log: SessionLog, sessionId: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let from = 1; ;) {
    const page = await log.read(sessionId, { from, limit: 1000 });
    out.push(...page.entries.map((entry) => entry.data));
    if (page.entries.length === 0 || from + page.entries.length > page.head) return out;
    from += page.entries.length;
  }
}

/** The worker envelopes of a session's log (what a client would attribute to messages). */
export async function readEnvelopes(log: SessionLog, sessionId: string): Promise<WorkerEnvelope[]> {
  const entries = await readAll(log, sessionId);
  return entries.filter(isWorkerEnvelope);
}

/** True once every inbound message of the session was handled and its inbox run ended. */
export async function inboxSettled(redis: Redis, log: SessionLog, sessionId: string): Promise<boolean> {
  const [seq, done, sched] = await redis.hmget(log.keys(sessionId).inboxState, 'seq', 'done', 'sched');
  return seq !== null && seq === done && sched === '0';
}

/** What `runInbox` needs besides the log and the handler, for tests that drive it directly. */
export const directRunDeps = {
  deadLetters: { record: () => Promise.resolve() },
  retry: { maxAttempts: 3, baseMs: 1, maxMs: 1 },
  report: () => undefined,
};

/**
 * kill -9 and restart `server` (without AOF it loads its last snapshot: a data-loss restore;
 * with `appendfsync always` it loses nothing), then wait until `log` serves the session again.
 */
export async function restartAndReconnect(
  server: RedisServer,
  log: SessionLog,
  sessionId: string,
): Promise<void> {
  await server.kill();
  await server.restart();
  await waitFor(
    () =>
      log.info(sessionId).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 15_000, what: 'the session log to reconnect to the restarted Redis' },
  );
}
