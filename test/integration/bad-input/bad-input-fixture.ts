import { afterAll, beforeAll, expect } from 'vitest';
import type { ConnectErrorData } from '@holdfast/protocol';
import { useEdgeEnvironment, type EdgeEnvironment } from '../../helpers/edge-fixture.js';
import { type RedisServerOptions, tokenFor } from '@holdfast/testing';
import { RawClient, assertContiguous, type RawClientOptions } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import type { ApiServer } from '@holdfast/api';
import { ApiClient, startTestApi } from '../api/api-fixture.js';

export interface BadInputEnvironment extends EdgeEnvironment {
  /** A fresh session id (created) in this file's Redis. */
  createSession(): Promise<string>;
  /**
   * The edge still serves everyone else: the bystander (a client on its own session, connected
   * since the file started) receives a new message, in order, without ever having been
   * disconnected, and a new client on a fresh session connects and receives one too.
   */
  expectStillServing(): Promise<void>;
  /** The handshake is refused with exactly `code`; then the edge still serves everyone else. */
  expectRefused(options: RawClientOptions, code: string): Promise<ConnectErrorData>;
}

/**
 * The setting of every bad-input test file: its own redis-server and edge, plus a bystander —
 * a healthy client on another session that stays connected through the whole file. Every case
 * ends by proving that the bystander kept receiving (hostile input on one connection touches
 * no other session) and that a new client is still served.
 */
export function useBadInputEnvironment(
  options: { edgeEnv?: Record<string, string>; redis?: RedisServerOptions } = {},
): BadInputEnvironment {
  const env = useEdgeEnvironment(options);
  let bystander: RawClient | undefined;
  let bystanderSession = '';
  let probes = 0;

  const createSession = async (): Promise<string> => {
    const sessionId = uniqueId();
    await env.log.createSession(sessionId);
    return sessionId;
  };

  beforeAll(async () => {
    bystanderSession = await createSession();
    bystander = await RawClient.connect(env.edge.url, {
      sessionId: bystanderSession,
      token: await tokenFor(bystanderSession, { ttlSeconds: 3600 }),
    });
    expect(bystander.hellos).toHaveLength(1);
  });
  afterAll(() => bystander?.close());

  const expectStillServing = async (): Promise<void> => {
    const watcher = bystander;
    if (!watcher) throw new Error('the bystander is not connected (use inside tests)');
    probes += 1;
    const { offset } = await env.log.append(bystanderSession, { probe: probes });
    await watcher.waitForOffset(offset);
    expect(watcher.disconnectReason).toBeUndefined();
    expect(watcher.notices).toEqual([]);
    assertContiguous(watcher.delivered, 1, probes);
    expect(watcher.delivered.map((d) => d.data)).toEqual(
      Array.from({ length: probes }, (_, i) => ({ probe: i + 1 })),
    );

    const sessionId = await createSession();
    const fresh = await RawClient.connect(env.edge.url, { sessionId, token: await tokenFor(sessionId) });
    try {
      expect(fresh.connectError).toBeUndefined();
      const appended = await env.log.append(sessionId, { fresh: sessionId });
      await fresh.waitForOffset(1);
      expect(fresh.delivered).toEqual([{ epoch: appended.epoch, offset: 1, data: { fresh: sessionId } }]);
    } finally {
      fresh.close();
    }
    expect(env.edge.running).toBe(true);
  };

  const expectRefused = async (clientOptions: RawClientOptions, code: string): Promise<ConnectErrorData> => {
    const client = await RawClient.connect(env.edge.url, clientOptions);
    try {
      expect(client.hellos).toEqual([]);
      expect(client.delivered).toEqual([]);
      expect(client.connectError?.message).toBe(code);
      expect(client.connectError?.data?.code).toBe(code);
      expect(client.connectError?.data?.message).toEqual(expect.any(String));
    } finally {
      client.close();
    }
    await expectStillServing();
    return client.connectError?.data as ConnectErrorData;
  };

  return Object.assign(Object.create(env) as EdgeEnvironment, {
    createSession,
    expectStillServing,
    expectRefused,
  }) as BadInputEnvironment;
}

/**
 * An API for this file's Redis, writing under the edge's key prefix so its messages reach the
 * edge's clients (the bystander included): started before the file's tests, closed after.
 */
export function useBadInputApi(env: BadInputEnvironment): { readonly http: ApiClient; readonly url: string } {
  let api: ApiServer | undefined;
  let http: ApiClient | undefined;
  beforeAll(async () => {
    api = await startTestApi(env.redis, { HOLDFAST_KEY_PREFIX: 'hf' });
    http = new ApiClient(api.url);
  });
  afterAll(async () => api?.close());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the API is started in beforeAll');
    return value;
  };
  return {
    get http() {
      return started(http);
    },
    get url() {
      return started(api).url;
    },
  };
}
