import { afterAll, beforeAll } from 'vitest';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, type RedisServerOptions, tokenFor } from '@holdfast/testing';
import { uniqueId } from './session-log-fixture.js';

export interface EdgeEnvironment {
  readonly redis: RedisServer;
  readonly edge: EdgeProcess;
  /** A session log on the same Redis, for creating sessions and publishing. */
  readonly log: SessionLog;
  /** A fresh session and a valid token for it. */
  newSession(options?: {
    consumerId?: string;
    ttlSeconds?: number;
  }): Promise<{ sessionId: string; token: string }>;
}

/**
 * The usual setting of an edge test file: its own redis-server, one real edge process on it and
 * a session log, started before the file's tests and stopped after them.
 */
export function useEdgeEnvironment(
  options: { edgeEnv?: Record<string, string>; redis?: RedisServerOptions } = {},
): EdgeEnvironment {
  let redis: RedisServer | undefined;
  let edge: EdgeProcess | undefined;
  let log: SessionLog | undefined;
  beforeAll(async () => {
    redis = await RedisServer.start(options.redis);
    log = new SessionLog({ redis: redis.url });
    await log.ready();
    edge = await EdgeProcess.start({
      redisUrl: redis.url,
      ...(options.edgeEnv ? { env: options.edgeEnv } : {}),
    });
  });
  afterAll(async () => {
    await edge?.stop();
    await log?.close();
    await redis?.destroy();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`${what} is not started (use it inside tests, not at import time)`);
    return value;
  };
  return {
    get redis() {
      return started(redis, 'redis');
    },
    get edge() {
      return started(edge, 'the edge');
    },
    get log() {
      return started(log, 'the session log');
    },
    async newSession(tokenOptions = {}) {
      const sessionId = uniqueId();
      await started(log, 'the session log').createSession(sessionId);
      return { sessionId, token: await tokenFor(sessionId, tokenOptions) };
    },
  };
}
