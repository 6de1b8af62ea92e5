import { Queue } from 'bullmq';
import {
  bullConnection,
  bullPrefix,
  inboundQueueName,
  inboundQueueOf,
  inboxRunJobId,
} from '@holdfast/inbound-queue';
import { createRedisLink, sessionKeys, type RedisLink } from '@holdfast/session-log';
import type { SessionLedger } from './ledger.js';

/**
 * What an acknowledged, never answered inbound message looked like at the end of a run, read
 * straight from Redis: the inbox's state (its round, the message being handled, its owner), the
 * sequence number the message got and whether the inbox still holds it, the job of the scheduled
 * round (state, attempts made, delay, last failure), and every log entry that names the message
 * (replies, markers, dead letter). Together with the client's view of its replies, enough to
 * tell a job that never ran from a reply that was written and then voided or lost.
 */
export interface LostInbound {
  readonly sessionId: string;
  readonly messageId: string;
  readonly ackedAt: string;
  /** The client's last view of the message's replies (attempts of finals, highest aborted). */
  readonly clientView: string;
  readonly inboxState: Record<string, string>;
  /** The message's inbound sequence number, if the dedupe hashes still know its id. */
  readonly seq: string | undefined;
  /** Whether the inbox stream still holds that sequence number. */
  readonly inInbox: boolean;
  readonly job: string;
  /** Log entries naming the message: `offset id kind attempt`. */
  readonly logEntries: string[];
  readonly error?: string;
}

const MAX_DESCRIBED = 5;

export async function describeLostInbound(
  ledgers: readonly SessionLedger[],
  lost: ReadonlyArray<{ sessionId: string; messageId: string }>,
  redisUrl: string,
  keyPrefix: string,
  inboundQueues: number,
): Promise<LostInbound[]> {
  if (lost.length === 0) return [];
  const redis = createRedisLink(redisUrl, 'command', { maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  redis.on('error', () => undefined);
  const bull = bullConnection(redisUrl);
  const queues = new Map<number, Queue>();
  const queueOf = (sessionId: string): Queue => {
    const index = inboundQueueOf(sessionId, inboundQueues);
    let queue = queues.get(index);
    if (!queue) {
      queue = new Queue(inboundQueueName(index), {
        connection: bull.onCluster ? bull.connection : { url: redisUrl, maxRetriesPerRequest: 0 },
        prefix: bullPrefix(keyPrefix, bull.onCluster, index),
      });
      queue.on('error', () => undefined);
      queues.set(index, queue);
    }
    return queue;
  };
  try {
    const out: LostInbound[] = [];
    for (const { sessionId, messageId } of lost.slice(0, MAX_DESCRIBED)) {
      const ledger = ledgers.find((l) => l.sessionId === sessionId);
      out.push(await describe(redis, queueOf(sessionId), keyPrefix, sessionId, messageId, ledger));
    }
    return out;
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined)));
    await bull.close();
    redis.disconnect();
  }
}

async function describe(
  redis: RedisLink,
  queue: Queue,
  keyPrefix: string,
  sessionId: string,
  messageId: string,
  ledger: SessionLedger | undefined,
): Promise<LostInbound> {
  const send = ledger?.sends.get(messageId);
  const reply = ledger?.view.replies.get(messageId);
  const base = {
    sessionId,
    messageId,
    ackedAt: new Date(send?.ackedAt ?? 0).toISOString(),
    clientView: reply
      ? `finals [${[...reply.finals].join(',')}], aborted up to ${reply.aborted}, errored ${reply.errored}`
      : 'no replies in the last view',
  };
  try {
    const keys = sessionKeys(keyPrefix, sessionId);
    const inboxState = await redis.hgetall(keys.inboxState);
    const seq =
      (await redis.hget(keys.inIdsA, messageId)) ?? (await redis.hget(keys.inIdsB, messageId)) ?? undefined;
    const inInbox = seq !== undefined && (await redis.xrange(keys.inbox, `${seq}-0`, `${seq}-0`)).length > 0;
    const round = Number(inboxState.sched ?? 0);
    let job = `round ${round}: none scheduled`;
    if (round > 0) {
      const found = await queue.getJob(inboxRunJobId(sessionId, round));
      job = found
        ? `round ${round}: ${await found.getState()}, attempts made ${found.attemptsMade}, ` +
          `delay ${found.delay} ms, added ${new Date(found.timestamp).toISOString()}, ` +
          `last failure ${found.failedReason ?? '-'}`
        : `round ${round}: no job`;
    }
    const logEntries: string[] = [];
    for (const [id, fields] of await redis.xrange(keys.log, '-', '+')) {
      const data = fields[fields.indexOf('d') + 1] ?? '';
      if (!data.includes(JSON.stringify(messageId))) continue;
      const entryId = fields.includes('i') ? fields[fields.indexOf('i') + 1] : '-';
      const kind = /"\$holdfast":"([a-z_]+)"/.exec(data)?.[1] ?? '?';
      const attempt = /"attempt":(\d+)/.exec(data)?.[1] ?? '?';
      logEntries.push(`${id.split('-')[0]} ${entryId} ${kind} a${attempt}`);
    }
    return { ...base, inboxState, seq, inInbox, job, logEntries };
  } catch (error) {
    return {
      ...base,
      inboxState: {},
      seq: undefined,
      inInbox: false,
      job: '?',
      logEntries: [],
      error: (error as Error).message,
    };
  }
}

/** One line per lost message for the console summary. */
export function formatLostInbound(l: LostInbound): string {
  const state = Object.entries(l.inboxState)
    .filter(([k]) => !k.startsWith('ids') && !k.startsWith('rate'))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return (
    `${l.sessionId} ${l.messageId} (acked ${l.ackedAt}): client ${l.clientView}; inbox {${state}}, ` +
    `message seq ${l.seq ?? '?'} ${l.inInbox ? 'in the inbox' : 'not in the inbox'}; job ${l.job}; ` +
    `log entries naming it [${l.logEntries.join('; ')}]${l.error ? ` (${l.error})` : ''}`
  );
}
