/**
 * `npm start`: a complete single-machine Holdfast for trying it out. Starts its own
 * redis-server (unless REDIS_URL is set: data under ./data, bound to 127.0.0.1, appendfsync
 * always), an edge, the HTTP API, a worker running the example agent and the demo page, creates
 * a demo session, and prints the URLs. Ctrl-C stops everything: the demo page, then the services
 * (they drain), then Redis.
 *
 * Its own settings (ports, data folder) are scripts/start-config.ts; the rest of the environment
 * is passed on to the services, with development defaults for what they would refuse to start
 * without (a token secret and an API key, kept under the data folder).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { createTokenIssuer, generateDevSecret } from '@holdfast/auth';
import { DEFAULT_PARTITIONS, SessionLog } from '@holdfast/session-log';
import { startDemoServer, type DemoServer } from '../demo/server/demo-server.js';
import { startLocalRedis, ServiceProcess, loadStartConfig, type StartConfig } from '@holdfast/testing';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Grace after SIGTERM before SIGKILL: above each service's own shutdown timeout (edge drain 20 s). */
const SERVICE_GRACE_MS = 30_000;
const REDIS_GRACE_MS = 30_000;

/** Started processes, in start order; stopped in reverse. */
const processes: ServiceProcess[] = [];
let demo: DemoServer | undefined;

function say(message: string): void {
  console.log(`holdfast: ${message}`);
}

/** A random secret kept under the data folder, so tokens and keys survive restarts of `npm start`. */
function devSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = generateDevSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

const printLine = (name: string, line: string): void => console.log(`[${name}] ${line}`);

/**
 * One service from its TypeScript entry point. Its own process group (`detached`), so a terminal's
 * Ctrl-C reaches only this script, which stops the services in order: a service that got the
 * SIGINT itself could still be draining when Redis, which got it too, is already gone.
 */
async function startService(
  name: string,
  main: string,
  env: Record<string, string>,
  ready: (p: ServiceProcess) => Promise<boolean> | boolean,
): Promise<void> {
  const service = new ServiceProcess({
    name,
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', join(root, main)],
    env: { ...process.env, ...env },
    cwd: root,
    ready,
    onLine: printLine,
    detached: true,
  });
  if (stopping) throw new Error(`not starting ${name}: stopping`);
  processes.push(service);
  await service.start();
}

const readyz = (url: string) => async (): Promise<boolean> => (await fetch(`${url}/readyz`)).ok;

async function startRedis(dataDir: string, redisPort: number): Promise<string> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not installed: run `npm run setup` (or apt-get install redis-server)');
  }
  const dir = join(dataDir, 'redis');
  const redis = await startLocalRedis({
    command: ['redis-server', '--appendonly', 'yes', '--appendfsync', 'always'],
    dir,
    port: redisPort,
    onLine: printLine,
    detached: true,
  });
  processes.push(redis.process);
  say(`redis-server on ${redis.url} (data in ${dir}, appendfsync always)`);
  return redis.url;
}

/** A session with one message in it, for trying a client by hand (README, docs/client.md). */
async function createWelcomeSession(
  redisUrl: string,
  secret: string,
): Promise<{ id: string; token: string }> {
  const log = new SessionLog({
    redis: redisUrl,
    keyPrefix: process.env.HOLDFAST_KEY_PREFIX ?? 'hf',
    partitions: Number(process.env.HOLDFAST_PARTITIONS ?? DEFAULT_PARTITIONS),
  });
  const id = `welcome-${Date.now().toString(36)}`;
  try {
    await log.createSession(id);
    await log.append(id, { text: 'Welcome to Holdfast: this message was stored before it was delivered.' });
  } finally {
    await log.close();
  }
  const { token } = await createTokenIssuer({ algorithm: 'HS256', secret }).issue({
    sessionId: id,
    ttlSeconds: 86_400,
  });
  return { id, token };
}

async function main(): Promise<void> {
  const config: StartConfig = loadStartConfig();
  const { PORT: port, API_PORT: apiPort, DEMO_PORT: demoPort } = config;
  const dataDir = resolve(root, config.HOLDFAST_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const redisUrl = process.env.REDIS_URL ?? (await startRedis(dataDir, config.HOLDFAST_REDIS_PORT));
  const secret = process.env.TOKEN_HS256_SECRETS?.split(',')[0] ?? devSecret(dataDir, 'dev-token-secret');
  const apiKey = process.env.API_KEYS?.split(',')[0] ?? devSecret(dataDir, 'dev-api-key');
  const url = `http://127.0.0.1:${port}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  await Promise.all([
    startService(
      'edge',
      'services/edge/src/main.ts',
      { PORT: String(port), REDIS_URL: redisUrl, TOKEN_HS256_SECRETS: secret },
      readyz(url),
    ),
    startService(
      'api',
      'services/api/src/main.ts',
      {
        PORT: String(apiPort),
        REDIS_URL: redisUrl,
        TOKEN_HS256_SECRETS: secret,
        API_KEYS: apiKey,
        // One JSON line per request would bury everything else (the demo page polls twice a second).
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
      readyz(apiUrl),
    ),
    startService(
      'worker',
      'services/worker/src/main.ts',
      {
        REDIS_URL: redisUrl,
        // Slow enough that a reply streams for a few seconds: time to drop, stall or reload mid-reply.
        EXAMPLE_AGENT_DELAY_MS: process.env.EXAMPLE_AGENT_DELAY_MS ?? '30',
      },
      (p) => /"msg":"[^"]*ready"/.test(p.output),
    ),
  ]);
  demo = await startDemoServer({ port: demoPort, apiUrl, apiKey, edgeUrl: url });
  const welcome = await createWelcomeSession(redisUrl, secret);

  say(`edge on ${url} (health: ${url}/healthz, readiness: ${url}/readyz, metrics: ${url}/metrics)`);
  say(`HTTP API on ${apiUrl} (OpenAPI: ${apiUrl}/openapi.json), API key: ${apiKey}`);
  say('worker running the example agent: send {text} messages to a session and it streams a reply');
  say(`a session to try a client by hand: ${welcome.id}, token: ${welcome.token}`);
  say(`demo page: ${demo.url}  <- open this in a browser`);
  say('Ctrl-C stops everything');
}

let stopping: Promise<void> | undefined;
function stop(signal: string, code: number): void {
  if (stopping) {
    say(`${signal} again: killing everything`);
    process.exit(1); // ServiceProcess SIGKILLs every child still running on exit
  }
  say(`${signal}: stopping (the services drain, then Redis stops)`);
  stopping = (async () => {
    await demo?.close();
    const [redis, services] = [
      processes.filter((p) => p.name === 'redis'),
      processes.filter((p) => p.name !== 'redis'),
    ];
    await Promise.all(services.map((p) => p.stop(SERVICE_GRACE_MS)));
    await Promise.all(redis.map((p) => p.stop(REDIS_GRACE_MS)));
  })();
  stopping.then(
    () => {
      say('stopped');
      process.exit(code);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

process.on('SIGINT', () => stop('SIGINT', 0));
// `kill <npm's pid>` (not the process group, which is what a terminal's Ctrl-C signals) ends npm
// and its `sh -c`, but not this script: it would live on as an orphan with every service and Redis
// still running. So stop when the parent changes.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid && !stopping) stop('parent process exited', 0);
}, 500).unref();
process.on('SIGTERM', () => stop('SIGTERM', 0));
process.on('SIGHUP', () => stop('SIGHUP', 0));
main().catch((error: unknown) => {
  if (stopping) return; // a Ctrl-C during start-up: already stopping
  console.error(`holdfast: ${(error as Error).message}`);
  stop('start-up failure', 1);
});
