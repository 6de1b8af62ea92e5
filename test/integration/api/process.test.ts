import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, waitFor, ApiProcess } from '@holdfast/testing';
import { ApiClient, apiEnv, type PublishBody } from './api-fixture.js';

let redis: RedisServer;
const started: ApiProcess[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await Promise.all(started.map((p) => p.kill()));
  await redis?.destroy();
});

async function start(extra: Record<string, string> = {}): Promise<ApiProcess> {
  const api = await ApiProcess.start(apiEnv(redis, extra));
  started.push(api);
  return api;
}

// Every variable's validation is covered in test/unit/api-config.test.ts; these prove that
// main.ts reads the real environment and stops with the message and exit code 2.
describe('a bad environment stops the process with a message naming the variable', () => {
  it.each([
    ['API_KEYS', { API_KEYS: undefined }],
    ['PORT', { PORT: 'eighty' }],
    ['TOKEN_HS256_SECRETS', { TOKEN_HS256_SECRETS: 'too-short' }],
  ])('%s', async (variable, change: Record<string, string | undefined>) => {
    const env = Object.fromEntries(
      Object.entries({ ...apiEnv(redis), ...change }).filter(
        (e): e is [string, string] => e[1] !== undefined,
      ),
    );
    const api = await ApiProcess.spawn(env);
    const exit = await api.waitForExit();
    expect(exit.code, api.output).toBe(2);
    expect(api.output).toContain('holdfast api: invalid api configuration');
    expect(api.output).toContain(`${variable}:`);
  });
});

it('serves the API from environment configuration', async () => {
  const api = await start({ LOG_LEVEL: 'warn' });
  const client = new ApiClient(api.url);
  const { sessionId } = await client.createSession();
  const published = await client.post<PublishBody>(`/v1/sessions/${sessionId}/messages`, { data: 'hello' });
  expect(published.body.offsets).toEqual([1]);
  expect((await client.get('/openapi.json', { key: null })).body['openapi']).toBe('3.1.0');
  expect(api.output).toContain('"msg":"api listening"');
});

it('on SIGTERM stops accepting, finishes requests in flight, closes Redis and exits 0', async () => {
  const own = await RedisServer.start();
  try {
    const api = await ApiProcess.start(apiEnv(own, { LOG_LEVEL: 'info' }));
    started.push(api);
    const client = new ApiClient(api.url);
    const { sessionId } = await client.createSession();

    // Freeze Redis so the next request is held in flight, waiting on its Redis command.
    await own.pause();
    const inFlight = client.post<PublishBody>(`/v1/sessions/${sessionId}/messages`, { data: 'in flight' });
    await api.waitForOutput(`/v1/sessions/${sessionId}/messages`);
    api.signal('SIGTERM');
    await api.waitForOutput('"msg":"api stopping"');
    // No new connections are accepted once shutdown began.
    await waitFor(
      async () =>
        await fetch(`${api.url}/healthz`).then(
          () => false,
          () => true,
        ),
      {
        what: 'the listener to close',
      },
    );
    expect(api.output).not.toContain('"msg":"api stopped"');

    await own.resume();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body.offsets).toEqual([1]);
    const exit = await api.waitForExit();
    expect(exit, api.output).toEqual({ code: 0, signal: null });
    expect(api.output).toContain('"msg":"api stopped"');
  } finally {
    await own.destroy();
  }
});
