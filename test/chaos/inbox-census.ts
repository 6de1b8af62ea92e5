import { InboundQueue, bullConnection } from '@holdfast/inbound-queue';
import { createRedisLink, sessionKeys } from '@holdfast/session-log';

/**
 * Where every session's inbound messages stand, read straight from Redis: tells a backlog the
 * workers are still working through apart from inboxes nothing will ever drain.
 *
 * - `settled`: every message handled;
 * - `backlog`: messages pending and the scheduled inbox run's job exists (waiting, running or
 *   retrying): a backlog;
 * - `orphaned`: messages pending and the scheduled inbox run's job does not exist: nothing will run
 *   it until the workers' inbox sweep re-submits it (services/worker/src/orphaned-inbox-runs.ts);
 * - `unscheduled`: messages pending and no inbox run scheduled at all (the inbox scripts never
 *   leave that state; counted so that it would show).
 */
export interface InboxCensus {
  settled: number;
  backlog: number;
  orphaned: number;
  unscheduled: number;
  /** Messages pending across all inboxes. */
  pendingMessages: number;
  /** A few orphaned or unscheduled sessions, to start an investigation from. */
  examples: string[];
}

export async function takeInboxCensus(
  redisUrl: string,
  keyPrefix: string,
  sessionIds: readonly string[],
  inboundQueues = 1,
): Promise<InboxCensus> {
  // One server or a cluster, as the services connect (a session's keys share one hash tag).
  const redis = createRedisLink(redisUrl, 'command', { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on('error', () => undefined);
  const bull = bullConnection(redisUrl);
  const queue = new InboundQueue(
    bull.onCluster ? bull.connection : { url: redisUrl, maxRetriesPerRequest: null },
    keyPrefix,
    inboundQueues,
  );
  const census: InboxCensus = {
    settled: 0,
    backlog: 0,
    orphaned: 0,
    unscheduled: 0,
    pendingMessages: 0,
    examples: [],
  };
  try {
    for (const sessionId of sessionIds) {
      const [seq, done, sched] = (
        await redis.hmget(sessionKeys(keyPrefix, sessionId).inboxState, 'seq', 'done', 'sched')
      ).map(Number) as [number, number, number];
      const pending = seq - done;
      if (!(pending > 0)) {
        census.settled++;
        continue;
      }
      census.pendingMessages += pending;
      if (sched === 0) {
        census.unscheduled++;
        if (census.examples.length < 5)
          census.examples.push(`${sessionId}: ${pending} pending, no inbox run scheduled`);
      } else if (await queue.inboxRunExists(sessionId, sched)) {
        census.backlog++;
      } else {
        census.orphaned++;
        if (census.examples.length < 5) {
          census.examples.push(`${sessionId}: ${pending} pending, inbox run generation ${sched} has no job`);
        }
      }
    }
  } finally {
    await queue.close().catch(() => undefined);
    await bull.close();
    redis.disconnect();
  }
  return census;
}

export function formatCensus(c: InboxCensus): string {
  return (
    `${c.settled} settled, ${c.backlog} backlog, ${c.orphaned} orphaned, ` +
    `${c.unscheduled} unscheduled; ${c.pendingMessages} messages pending`
  );
}
