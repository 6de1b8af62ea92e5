import { createRedisLink, sessionKeys, type RedisLink } from '@holdfast/session-log';
import type { ChaosClient } from './clients.js';

/**
 * What a session that did not drain looked like at the end, from both sides: the client (its
 * state, recent state changes and errors, what its app handled, the resets it got) and the log
 * in Redis (epoch, head, the consumer's ack, lease generation, holder and presence). Enough to
 * tell a client that stopped reconnecting from an edge that stopped delivering to it.
 */
export interface StuckSession {
  sessionId: string;
  client: {
    state: string;
    /** Position the SDK resumes from (what the app handled). */
    position: { epoch: string; offset: number } | undefined;
    /** Position the ledger saw last (app handler). */
    ledgerPosition: { epoch: string; offset: number } | undefined;
    pendingSends: number;
    delivered: number;
    lastDeliveryAt: string | undefined;
    resets: Array<{
      at: string;
      oldEpoch: string | null;
      newEpoch: string;
      resumeFrom: number;
      reason: string;
    }>;
    history: string[];
  };
  log:
    | {
        meta: Record<string, string>;
        length: number;
        firstId: string | undefined;
        lastId: string | undefined;
      }
    | undefined;
  logError?: string;
}

export async function describeStuckSessions(
  clients: readonly ChaosClient[],
  sessionIds: ReadonlySet<string>,
  redisUrl: string,
  keyPrefix: string,
): Promise<StuckSession[]> {
  const stuck = clients.filter((c) => sessionIds.has(c.ledger.sessionId));
  if (stuck.length === 0) return [];
  // One server or a cluster (a session's keys share one hash tag); no retries: must not hang the run.
  const redis = createRedisLink(redisUrl, 'command', { maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  redis.on('error', () => undefined);
  try {
    return await Promise.all(stuck.map((client) => describe(client, redis, keyPrefix)));
  } finally {
    redis.disconnect();
  }
}

async function describe(client: ChaosClient, r: RedisLink, keyPrefix: string): Promise<StuckSession> {
  const { ledger, session } = client;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const out: StuckSession = {
    sessionId: ledger.sessionId,
    client: {
      state: session.state,
      position: session.position,
      ledgerPosition: ledger.position,
      pendingSends: session.pendingSends,
      delivered: ledger.delivered,
      lastDeliveryAt: ledger.lastDeliveryAt > 0 ? iso(ledger.lastDeliveryAt) : undefined,
      resets: ledger.resets.map(({ at, reset }) => ({
        at: iso(at),
        oldEpoch: reset.oldEpoch,
        newEpoch: reset.newEpoch,
        resumeFrom: reset.resumeFrom,
        reason: reset.reason,
      })),
      history: [...client.history],
    },
    log: undefined,
  };
  try {
    const keys = sessionKeys(keyPrefix, ledger.sessionId);
    const meta = await r.hgetall(keys.meta);
    const length = await r.xlen(keys.log);
    const first = (await r.xrange(keys.log, '-', '+', 'COUNT', 1))[0]?.[0];
    const last = (await r.xrevrange(keys.log, '+', '-', 'COUNT', 1))[0]?.[0];
    out.log = { meta, length, firstId: first, lastId: last };
  } catch (error) {
    out.logError = (error as Error).message;
  }
  return out;
}

/** One line per stuck session for the console summary. */
export function formatStuckSession(s: StuckSession): string {
  const c = s.client;
  const pos = (p: { epoch: string; offset: number } | undefined): string =>
    p ? `${p.epoch.slice(0, 8)}@${p.offset}` : '-';
  const meta = s.log?.meta ?? {};
  const consumerFields = Object.entries(meta)
    .filter(([k]) => /^(ack|lease|holder|seen):/.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const resets = c.resets.map(
    (r) => `${r.at.slice(11, 23)} ${r.reason} ->${r.newEpoch.slice(0, 8)}@${r.resumeFrom}`,
  );
  return (
    `${s.sessionId}: client ${c.state}, position ${pos(c.position)}, app ${pos(c.ledgerPosition)}, ` +
    `pending sends ${c.pendingSends}, last delivery ${c.lastDeliveryAt ?? '-'}; ` +
    `log epoch ${(meta.epoch ?? '?').slice(0, 8)} head ${meta.head ?? '?'} len ${s.log?.length ?? '?'} ` +
    `ids ${s.log?.firstId ?? '-'}..${s.log?.lastId ?? '-'} ${consumerFields}${s.logError ? ` (${s.logError})` : ''}; ` +
    `resets [${resets.join(', ')}]; history [${c.history.join(' > ')}]`
  );
}
