import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bullConnection,
  bullPrefix,
  inboundQueueName,
  inboundQueueOf,
  InboundQueue,
  type BullConnection,
} from '@holdfast/inbound-queue';
import { SessionLog, sessionKeys } from '@holdfast/session-log';
import { InboxWorker } from '@holdfast/worker';
import { RedisCluster, waitFor } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { readEnvelopes, send } from '../worker/worker-harness.js';

// The worker on a Redis Cluster: BullMQ on a Cluster client with a hash-tagged prefix (every
// key of a queue in one slot, or BullMQ's scripts fail CROSSSLOT), the session log's inbox
// scripts on each session's shard, maintenance and the inbox sweep scanning every master.

let cluster: RedisCluster;
let log: SessionLog;
let bull: BullConnection;
let queue: InboundQueue;
let worker: InboxWorker;

beforeAll(async () => {
  cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 0 });
  const url = `redis+cluster://${cluster.nodesEnv}`;
  log = new SessionLog({ redis: url, inboundRatePerSession: 0 });
  await log.ready();
  bull = bullConnection(url);
  queue = new InboundQueue(bull.connection, log.options.keyPrefix);
  worker = await InboxWorker.start({
    redisUrl: url,
    keyPrefix: log.options.keyPrefix,
    retryBaseMs: 10,
    handler: async (ctx) => {
      await ctx.publish({ echo: ctx.message.data });
    },
  });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await queue?.close();
  await bull?.close();
  await log?.close();
  await cluster?.destroy();
});

describe('the worker on Redis Cluster', () => {
  it('answers inbound messages of sessions on every shard, in order', async () => {
    const masters = new Set<number>();
    const ids: string[] = [];
    for (let i = 0; masters.size < 3 && i < 64; i++) {
      const id = uniqueId(`w${i}x`);
      masters.add((await cluster.masterOf(await cluster.slotOf(sessionKeys('hf', id).meta))).server.port);
      ids.push(id);
      await log.createSession(id);
    }
    expect(masters.size).toBe(3);
    for (const id of ids) {
      for (let m = 1; m <= 3; m++) await send(log, queue, id, `m${m}`, `${id}/${m}`);
    }
    await waitFor(
      async () => {
        for (const id of ids) if ((await readEnvelopes(log, id)).length < 3) return false;
        return true;
      },
      { what: 'a reply to every message', timeoutMs: 30_000 },
    );
    for (const id of ids) {
      const replies = await readEnvelopes(log, id);
      expect(replies.map((r) => (r as { messageId?: string }).messageId)).toEqual(['m1', 'm2', 'm3']);
    }
  }, 60_000);

  it('spreads inbox runs over several inbound queues on different shards, each session in order', async () => {
    const url = `redis+cluster://${cluster.nodesEnv}`;
    const queues = 16;
    const keyPrefix = 'spread';
    const spreadLog = new SessionLog({ redis: url, keyPrefix, inboundRatePerSession: 0 });
    const spreadBull = bullConnection(url);
    const spreadQueue = new InboundQueue(spreadBull.connection, keyPrefix, queues);
    const spreadWorker = await InboxWorker.start({
      redisUrl: url,
      keyPrefix,
      inboundQueues: queues,
      concurrency: 2,
      retryBaseMs: 10,
      handler: async (ctx) => {
        await ctx.publish({ echo: ctx.message.data });
      },
    });
    try {
      await spreadLog.ready();
      // Every master holds at least one queue: the queues' hash tags differ.
      const mastersOfQueues = new Set<number>();
      for (let index = 0; index < queues; index++) {
        const key = `${bullPrefix(keyPrefix, true, index)}:${inboundQueueName(index)}:wait`;
        mastersOfQueues.add((await cluster.masterOf(await cluster.slotOf(key))).server.port);
      }
      expect(mastersOfQueues.size).toBe(3);

      const ids = Array.from({ length: 24 }, (_, i) => uniqueId(`q${i}x`));
      const usedQueues = new Set(ids.map((id) => inboundQueueOf(id, queues)));
      expect(usedQueues.size).toBeGreaterThan(4);
      for (const id of ids) await spreadLog.createSession(id);
      for (let m = 1; m <= 4; m++) {
        await Promise.all(ids.map((id) => send(spreadLog, spreadQueue, id, `m${m}`, `${id}/${m}`)));
      }
      await waitFor(
        async () => {
          for (const id of ids) if ((await readEnvelopes(spreadLog, id)).length < 4) return false;
          return true;
        },
        { what: 'a reply to every message', timeoutMs: 30_000 },
      );
      for (const id of ids) {
        const replies = await readEnvelopes(spreadLog, id);
        expect(replies.map((r) => (r as { messageId?: string }).messageId)).toEqual(['m1', 'm2', 'm3', 'm4']);
      }
    } finally {
      await spreadWorker.close();
      await spreadQueue.close();
      await spreadBull.close();
      await spreadLog.close();
    }
  }, 60_000);
});
