import { afterAll, beforeAll, expect, it } from 'vitest';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, tokenFor, waitFor } from '@holdfast/testing';
import { RawClient } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';

/**
 * What docs/reliability.md states for a Redis without persistence that restarts empty: the
 * sessions are gone. A client connected through it is told so (as for a deleted session) once
 * the edge finds its session missing, and reconnecting gets `session_not_found`.
 */
let redis: RedisServer;
let log: SessionLog;
let edge: EdgeProcess;

beforeAll(async () => {
  redis = await RedisServer.start({ appendonly: false });
  log = new SessionLog({ redis: redis.url });
  await log.ready();
  edge = await EdgeProcess.start({ redisUrl: redis.url, env: { LEASE_MS: '1500' } });
});
afterAll(async () => {
  await edge?.stop();
  await log?.close();
  await redis?.destroy();
});

it('a connected client learns that its session is gone after Redis restarts empty', async () => {
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  const token = await tokenFor(sessionId);
  const client = new RawClient(edge.url, { sessionId, token });
  await waitFor(() => client.hellos.length > 0, { what: 'hello' });

  await redis.kill();
  await redis.restart();
  const notice = await waitFor(
    () => client.notices.find((n) => ['session_ended', 'replaced', 'fault', 'drain'].includes(n.event)),
    { timeoutMs: 20_000, what: 'the edge to react' },
  );
  expect(notice).toMatchObject({ event: 'session_ended', payload: { code: 'session_ended' } });
  client.close();

  const again = new RawClient(edge.url, { sessionId, token });
  await waitFor(() => again.connectError, { what: 'the reconnect refused' });
  expect(again.connectError?.data?.code).toBe('session_not_found');
  again.close();
});
