import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { HoldfastSession } from '@holdfast/client';
import { SessionLog, type CreateSessionOptions } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, type RedisServerOptions, waitFor } from '@holdfast/testing';
import { uniqueId } from './session-log-fixture.js';
import { TOPOLOGY, startTestRedis, type TestRedis } from './test-redis.js';

/**
 * One redis-server and a SessionLog for a client SDK test file, edges started on demand, and
 * SDK sessions closed after each test. Edges live until the end of the file (stopping a killed
 * one is a no-op).
 *
 * With HOLDFAST_TEST_REDIS=cluster (`npm run test:cluster`) the same tests run against a local
 * Redis Cluster of 3 masters and 3 replicas instead; a test that controls the Redis server
 * itself (`cluster.redis`: pause, kill, restart) is standalone-only and says so (`onCluster`).
 */
export function useClientCluster(redisOptions: RedisServerOptions = {}) {
  let redis: RedisServer | undefined;
  let clusterRedis: TestRedis | undefined;
  let redisUrl: string | undefined;
  let log: SessionLog | undefined;
  const edges: EdgeProcess[] = [];
  let shared: Promise<EdgeProcess> | undefined;
  const sessions: Array<HoldfastSession<unknown>> = [];

  beforeAll(async () => {
    if (TOPOLOGY === 'cluster') {
      clusterRedis = await startTestRedis('cluster');
      redisUrl = clusterRedis.url;
    } else {
      redis = await RedisServer.start(redisOptions);
      redisUrl = redis.url;
    }
    log = new SessionLog({ redis: redisUrl });
    await log.ready();
  }, 60_000);
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
  });
  afterAll(async () => {
    await Promise.all(edges.splice(0).map((edge) => edge.stop()));
    await log?.close();
    await redis?.destroy();
    await clusterRedis?.destroy();
  });

  const cluster = {
    /** True when this run's Redis is a Redis Cluster (HOLDFAST_TEST_REDIS=cluster). */
    onCluster: TOPOLOGY === 'cluster',
    /** The redis-server itself, for tests that pause, kill or restart it: standalone only. */
    get redis(): RedisServer {
      if (TOPOLOGY === 'cluster') {
        throw new Error(
          'useClientCluster: this test controls a single redis-server; it runs standalone only',
        );
      }
      if (!redis) throw new Error('useClientCluster: used before beforeAll ran');
      return redis;
    },
    /** What the services and the session log are given (REDIS_URL), on either topology. */
    get redisUrl(): string {
      if (!redisUrl) throw new Error('useClientCluster: used before beforeAll ran');
      return redisUrl;
    },
    get log(): SessionLog {
      if (!log) throw new Error('useClientCluster: used before beforeAll ran');
      return log;
    },
    async startEdge(env: Record<string, string> = {}): Promise<EdgeProcess> {
      const edge = await EdgeProcess.start({ redisUrl: cluster.redisUrl, env });
      edges.push(edge);
      return edge;
    },
    /** One edge for the whole file, started on first use: for tests that do not stop edges. */
    sharedEdge(): Promise<EdgeProcess> {
      shared ??= cluster.startEdge();
      return shared;
    },
    async newSession(options: CreateSessionOptions = {}): Promise<{ sessionId: string; epoch: string }> {
      const sessionId = uniqueId();
      const { epoch } = await cluster.log.createSession(sessionId, options);
      return { sessionId, epoch };
    },
    /** Appends messages { n } for n = from..from+count-1, in batches of up to `batch`. */
    async publish(sessionId: string, from: number, count: number, batch = 100): Promise<void> {
      for (let done = 0; done < count;) {
        const n = Math.min(batch, count - done);
        await cluster.log.appendBatch(
          sessionId,
          Array.from({ length: n }, (_, i) => ({ data: { n: from + done + i } })),
        );
        done += n;
      }
    },
    /**
     * Appends `perTick` messages { n } every `tickMs` until stopped; `stop()` resolves with the
     * last offset written.
     */
    startProducer(sessionId: string, perTick = 5, tickMs = 10): { stop: () => Promise<number> } {
      let head = 0;
      let running = true;
      const loop = (async () => {
        while (running) {
          await cluster.log.appendBatch(
            sessionId,
            Array.from({ length: perTick }, (_, i) => ({ data: { n: head + i + 1 } })),
          );
          head += perTick;
          await new Promise((resolve) => setTimeout(resolve, tickMs)); // the producer's pace
        }
      })();
      return {
        stop: async () => {
          running = false;
          await loop;
          return head;
        },
      };
    },
    /** Connections an edge holds, from its /readyz (answered without Redis). */
    async connectionsOn(edge: EdgeProcess): Promise<number> {
      const res = await fetch(`${edge.url}/readyz`);
      return ((await res.json()) as { connections: number }).connections;
    },
    /**
     * Stops (SIGSTOP) or continues (SIGCONT) an edge and waits until the kernel says so (Linux),
     * so what a client sends meanwhile waits in the socket buffers and is read in one go.
     */
    async freeze(edge: EdgeProcess, frozen: boolean): Promise<void> {
      edge.signal(frozen ? 'SIGSTOP' : 'SIGCONT');
      await waitFor(
        async () => {
          const stat = await readFile(`/proc/${edge.pid}/stat`, 'utf8');
          const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
          return frozen === (state === 'T' || state === 't');
        },
        { intervalMs: 5, what: `edge ${edge.pid} to be ${frozen ? 'stopped' : 'running'}` },
      );
    },
    /** Closes the session after the test (tests may close it earlier). */
    track<T>(session: HoldfastSession<T>): HoldfastSession<T> {
      sessions.push(session as HoldfastSession<unknown>);
      return session;
    },
  };
  return cluster;
}
