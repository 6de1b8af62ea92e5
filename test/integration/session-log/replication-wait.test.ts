import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isHoldfastError } from '@holdfast/protocol';
import { SessionLog } from '@holdfast/session-log';
import { RedisServer, waitFor } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { ApiClient, startTestApi } from '../api/api-fixture.js';

// Synchronous replication on one Redis server with a replica (no cluster): the WAIT follows the
// scripts on the log's one connection. The cluster cases (one WAIT per master, MOVED, failover)
// are in test/integration/cluster.

const WAIT = { replicas: 1, timeoutMs: 300 };

let master: RedisServer;
let replica: RedisServer;
const logs: SessionLog[] = [];

beforeAll(async () => {
  master = await RedisServer.start();
  replica = await RedisServer.start({ extraArgs: ['--replicaof', master.host, String(master.port)] });
  const admin = replica.client();
  await waitFor(async () => /master_link_status:up/.test(await admin.info('replication')), {
    what: 'the replica to finish its initial sync',
  });
  admin.disconnect();
}, 60_000);

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await replica?.destroy();
  await master?.destroy();
});

async function openLog(replicas = WAIT.replicas): Promise<SessionLog> {
  const log = new SessionLog({
    redis: master.url,
    keyPrefix: uniqueId('rws'),
    commandTimeoutMs: 2_000,
    replicationWait: { ...WAIT, replicas },
  });
  logs.push(log);
  await log.ready();
  return log;
}

describe('synchronous replication on one server', () => {
  it('refuses to start when the server has fewer replicas than asked', async () => {
    await expect(openLog(2)).rejects.toMatchObject({ code: ErrorCode.InvalidOptions });
  });

  it('acknowledges only what the replica has; a frozen replica turns writes into replication_timeout', async () => {
    const log = await openLog();
    const onReplica = replica.client();
    const id = uniqueId('s');
    await log.createSession(id);
    const batch = await Promise.all(Array.from({ length: 50 }, (_, n) => log.append(id, { n })));
    for (const { offset } of batch) {
      expect(await onReplica.xrange(log.keys(id).log, `${offset}-0`, `${offset}-0`)).toHaveLength(1);
    }

    await replica.pause();
    try {
      const startedAt = performance.now();
      const failed = await log.appendBatch(id, [{ data: { n: 50 }, id: 'late' }]).catch((e: unknown) => e);
      expect(isHoldfastError(failed, ErrorCode.ReplicationTimeout), String(failed)).toBe(true);
      expect(performance.now() - startedAt).toBeLessThan(WAIT.timeoutMs + 1_500);
    } finally {
      await replica.resume();
    }
    const retried = await waitFor(
      () => log.appendBatch(id, [{ data: { n: 50 }, id: 'late' }]).catch(() => undefined),
      { what: 'the retry to be acknowledged once the replica is back' },
    );
    expect(retried[0]).toMatchObject({ offset: 51, duplicate: true });
    onReplica.disconnect();
  });

  it('the API answers 503 replication_timeout with Retry-After: 1, and a retry with the same key finds the publish', async () => {
    const api = await startTestApi(master, { HOLDFAST_REPLICATION_WAIT: `1:${WAIT.timeoutMs}` });
    try {
      const client = new ApiClient(api.url);
      const { sessionId } = await client.createSession();
      const publish = () =>
        client.post(
          `/v1/sessions/${sessionId}/messages`,
          { data: 'once' },
          { headers: { 'idempotency-key': 'k1' } },
        );
      await replica.pause();
      try {
        const refused = await publish();
        expect([refused.status, refused.body['code']]).toEqual([503, ErrorCode.ReplicationTimeout]);
        expect(refused.headers.get('retry-after')).toBe('1');
      } finally {
        await replica.resume();
      }
      const retried = await waitFor(
        async () => {
          const res = await publish();
          return res.status === 200 ? res : undefined;
        },
        { what: 'the retried publish to succeed once the replica is back' },
      );
      expect(retried.body).toMatchObject({ offsets: [1], duplicates: [true] });
    } finally {
      await api.close();
    }
  });
});
