import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { SessionLog, type SessionLogOptions } from '@holdfast/session-log';
import { RedisServer, type RedisServerOptions } from '@holdfast/testing';

/** A short random id, valid as a session id, message id or key prefix. */
export function uniqueId(prefix = 's'): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

/**
 * HOLDFAST_TEST_REPLICATION_WAIT=<replicas>:<timeoutMs> runs the contract tests with every log
 * waiting for replicas (`npm run test:cluster:wait`); unset, none waits.
 */
function testReplicationWait(): Pick<SessionLogOptions, 'replicationWait'> {
  const match = /^(\d+):(\d+)$/.exec(process.env.HOLDFAST_TEST_REPLICATION_WAIT ?? '');
  if (!match) return {};
  return { replicationWait: { replicas: Number(match[1]), timeoutMs: Number(match[2]) } };
}

/**
 * Session logs for one test file: each gets its own key prefix, so tests sharing a
 * redis-server (or a cluster, test-redis.ts) never see each other's keys; `closeAll` releases their connections.
 */
export function sessionLogFactory(server: () => { readonly url: string }) {
  const logs: SessionLog[] = [];
  return {
    async open(options: Partial<SessionLogOptions> = {}): Promise<SessionLog> {
      const log = new SessionLog({
        redis: server().url,
        keyPrefix: uniqueId('t'),
        ...testReplicationWait(),
        ...options,
      });
      logs.push(log);
      await log.ready();
      return log;
    },
    async closeAll(): Promise<void> {
      await Promise.all(logs.splice(0).map((log) => log.close()));
    },
  };
}

/**
 * A redis-server of this test file's own, started before its tests and destroyed after them, and
 * session logs on it, closed after each test. For tests that count the commands Redis runs,
 * restart it or change its persistence: a shared server would see other files' work.
 */
export function useOwnRedisServer(options: RedisServerOptions = {}): {
  readonly server: RedisServer;
  readonly logs: ReturnType<typeof sessionLogFactory>;
} {
  let server: RedisServer | undefined;
  const started = (): RedisServer => {
    if (!server) throw new Error('the redis-server is started in beforeAll; use it inside a test');
    return server;
  };
  const logs = sessionLogFactory(started);
  beforeAll(async () => {
    server = await RedisServer.start(options);
  });
  afterEach(() => logs.closeAll());
  afterAll(() => server?.destroy());
  return {
    get server() {
      return started();
    },
    logs,
  };
}
