/**
 * `npm start`: a complete single-machine Holdfast for trying it out. Starts its own
 * redis-server (unless REDIS_URL is set: data under ./data, bound to 127.0.0.1, appendfsync
 * always), an edge, the HTTP API and a worker running the example agent, creates a demo
 * session, and prints how to use them. Ctrl-C stops everything: services drain, then Redis
 * shuts down cleanly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createTokenIssuer, generateDevSecret } from '@holdfast/auth';
import { SessionLog } from '@holdfast/session-log';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, 'data');
const children: ChildProcess[] = [];

function say(message: string): void {
  console.log(`holdfast: ${message}`);
}

/** A random secret kept under ./data, so tokens and keys survive restarts of `npm start`. */
function devSecret(name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = generateDevSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function startService(main: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(root, main)], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  children.push(child);
  return child;
}

async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function startRedis(): Promise<string> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not installed: run `npm run setup` (or apt-get install redis-server)');
  }
  const port = Number(process.env.HOLDFAST_REDIS_PORT ?? 6390);
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const redis = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(redis);
  const url = `redis://127.0.0.1:${port}`;
  await waitUntil(async () => {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } finally {
      probe.disconnect();
    }
  }, `redis-server on port ${port}`);
  say(`redis-server on ${url} (data in ${dir}, appendfsync always)`);
  return url;
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const redisUrl = process.env.REDIS_URL ?? (await startRedis());
  const secret = process.env.TOKEN_HS256_SECRETS?.split(',')[0] ?? devSecret('dev-token-secret');
  const apiKey = process.env.API_KEYS?.split(',')[0] ?? devSecret('dev-api-key');
  const port = process.env.PORT ?? '8080';
  const apiPort = process.env.API_PORT ?? '8081';

  startService('services/edge/src/main.ts', { PORT: port, REDIS_URL: redisUrl, TOKEN_HS256_SECRETS: secret });
  startService('services/api/src/main.ts', {
    PORT: apiPort,
    REDIS_URL: redisUrl,
    TOKEN_HS256_SECRETS: secret,
    API_KEYS: apiKey,
  });
  startService('services/worker/src/main.ts', { REDIS_URL: redisUrl });
  const url = `http://127.0.0.1:${port}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitUntil(async () => (await fetch(`${url}/readyz`)).ok, `the edge on ${url}`);
  await waitUntil(async () => (await fetch(`${apiUrl}/readyz`)).ok, `the API on ${apiUrl}`);

  const log = new SessionLog({ redis: redisUrl });
  const sessionId = `demo-${Date.now().toString(36)}`;
  await log.createSession(sessionId);
  await log.append(sessionId, {
    text: 'Welcome to Holdfast: this message was stored before it was delivered.',
  });
  await log.close();
  const { token } = await createTokenIssuer({ algorithm: 'HS256', secret }).issue({
    sessionId,
    ttlSeconds: 86_400,
  });

  say(`edge on ${url} (health: ${url}/healthz, readiness: ${url}/readyz, metrics: ${url}/metrics)`);
  say(`HTTP API on ${apiUrl} (OpenAPI: ${apiUrl}/openapi.json), API key: ${apiKey}`);
  say('worker running the example agent: send {text} messages to a session and it streams a reply');
  say(`demo session ${sessionId}; connect with Socket.IO auth { v: 1, sessionId: '${sessionId}', token }`);
  say(`token: ${token}`);
  say('Ctrl-C stops everything');
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping');
  // Reverse order: the services drain before Redis goes away.
  for (const child of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  process.exit(0);
}

process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
main().catch((error: unknown) => {
  console.error(`holdfast: ${(error as Error).message}`);
  void stop();
});
