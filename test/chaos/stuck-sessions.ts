import { sessionKeys } from '@holdfast/session-log';
import type { ChaosClient } from './clients.js';
import type { RedisControl } from './redis-control.js';

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
  redis: RedisControl,
  keyPrefix: string,
): Promise<StuckSession[]> {
  const stuck = clients.filter((c) => sessionIds.has(c.ledger.sessionId));
  return Promise.all(stuck.map((client) => describe(client, redis, keyPrefix)));
}

async function describe(client: ChaosClient, redis: RedisControl, keyPrefix: string): Promise<StuckSession> {
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
    out.log = await redis.command(async (r) => {
      const meta = await r.hgetall(keys.meta);
      const length = await r.xlen(keys.log);
      const first = (await r.xrange(keys.log, '-', '+', 'COUNT', 1))[0]?.[0];
      const last = (await r.xrevrange(keys.log, '+', '-', 'COUNT', 1))[0]?.[0];
      return { meta, length, firstId: first, lastId: last };
    });
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
