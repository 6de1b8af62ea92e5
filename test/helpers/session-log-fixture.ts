import { randomBytes } from 'node:crypto';
import { SessionLog, type SessionLogOptions } from '@holdfast/session-log';
import type { RedisServer } from '@holdfast/testing';

/** A short random id, valid as a session id, message id or key prefix. */
export function uniqueId(prefix = 's'): string {
  return `${prefix}${randomBytes(6).toString('hex')}`;
}

/**
 * Session logs for one test file: each gets its own key prefix, so tests sharing a
 * redis-server never see each other's keys; `closeAll` releases their connections.
 */
export function sessionLogFactory(server: () => RedisServer) {
  const logs: SessionLog[] = [];
  return {
    async open(options: Partial<SessionLogOptions> = {}): Promise<SessionLog> {
      const log = new SessionLog({ redis: server().url, keyPrefix: uniqueId('t'), ...options });
      logs.push(log);
      await log.ready();
      return log;
    },
    async closeAll(): Promise<void> {
      await Promise.all(logs.splice(0).map((log) => log.close()));
    },
  };
}
