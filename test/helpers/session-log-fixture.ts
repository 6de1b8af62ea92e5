import { randomBytes } from 'node:crypto';
import { SessionLog, type SessionLogOptions } from '@holdfast/session-log';

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
