import { afterAll, beforeAll, expect, it } from 'vitest';
import { RawClient } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { API_KEY, ApiClient, apiEnv } from '../api/api-fixture.js';
import {
  ApiProcess,
  EdgeProcess,
  RedisServer,
  TEST_TOKEN_SECRET,
  waitFor,
  WorkerProcess,
} from '@holdfast/testing';

/**
 * A run of edge, API and worker with every log level on, through the paths that handle secrets
 * (tokens minted and presented, good and bad; API keys, good and bad; payloads published,
 * delivered, sent inbound, handled and dead-lettered): none of those secrets may appear in any
 * service's output.
 */
const PUBLISHED = 'published-payload-7f3a9c';
const PROMPT = 'inbound-prompt-4be21d';
const POISON = 'poison-prompt-91c0ee';
const WRONG_KEY = 'wrong-api-key-5d8e2b1c0a';
const FORGED_TOKEN = 'forged-token-0c7d1e9f.abc.def';

let redis: RedisServer;
let edge: EdgeProcess;
let api: ApiProcess;
let worker: WorkerProcess;

beforeAll(async () => {
  redis = await RedisServer.start();
  const keyPrefix = uniqueId('logs');
  [edge, api, worker] = await Promise.all([
    EdgeProcess.start({ redisUrl: redis.url, env: { HOLDFAST_KEY_PREFIX: keyPrefix, LOG_LEVEL: 'trace' } }),
    ApiProcess.start(apiEnv(redis, { HOLDFAST_KEY_PREFIX: keyPrefix, LOG_LEVEL: 'trace' })),
    WorkerProcess.start({
      redisUrl: redis.url,
      keyPrefix,
      env: { LOG_LEVEL: 'trace', MAX_ATTEMPTS: '1', EXAMPLE_AGENT_DELTAS: '3', EXAMPLE_AGENT_DELAY_MS: '0' },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([edge?.stop(), api?.kill(), worker?.kill()]);
  await redis?.destroy();
});

it('no service logs a token, an API key or a payload', async () => {
  const client = new ApiClient(api.url);
  const { sessionId, token } = await client.createSession({ consumerId: 'browser' });
  await client.post(`/v1/sessions/${sessionId}/messages`, { data: { text: PUBLISHED } });
  const refused = await new ApiClient(api.url, WRONG_KEY).get(`/v1/sessions/${sessionId}`);
  expect(refused.status).toBe(401);

  const forged = await RawClient.connect(edge.url, { sessionId, token: FORGED_TOKEN });
  expect(forged.connectError).toBeDefined();
  forged.close();

  const raw = await RawClient.connect(edge.url, { sessionId, token });
  await raw.waitForOffset(1);
  expect(raw.delivered[0]?.data).toEqual({ text: PUBLISHED });
  expect(await raw.socket.emitWithAck('send', { id: 'p1', data: { text: PROMPT } })).toMatchObject({
    ok: true,
  });
  expect(await raw.socket.emitWithAck('send', { id: 'p2', data: { nottext: POISON } })).toMatchObject({
    ok: true,
  });
  // The reply to the prompt, and the poisoned prompt's handler failure, both reach the log.
  await waitFor(() => worker.output.includes('dead-lettered') && raw.delivered.length > 2, {
    what: 'a reply delivered and the poisoned prompt dead-lettered',
  });
  raw.close();

  const outputs = { edge: edge.output, api: api.output, worker: worker.output };
  // The run did log, through the shared configuration, with the session on the lines about it.
  expect(outputs.edge).toContain('"service":"edge"');
  expect(outputs.edge).toContain(`"sessionId":"${sessionId}"`);
  expect(outputs.api).toContain('"service":"api"');
  expect(outputs.api).toContain(`/v1/sessions/${sessionId}/messages`);
  expect(outputs.worker).toContain(sessionId);
  const secrets = [token, API_KEY, WRONG_KEY, FORGED_TOKEN, TEST_TOKEN_SECRET, PUBLISHED, PROMPT, POISON];
  for (const [service, output] of Object.entries(outputs)) {
    for (const secret of secrets) expect(output, `${service} logged ${secret}`).not.toContain(secret);
  }
});
