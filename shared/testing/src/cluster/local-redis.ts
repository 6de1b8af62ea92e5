import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { freePort } from '../free-port.js';
import { ServiceProcess } from '../service-process.js';

const HOST = '127.0.0.1';

export interface LocalRedisOptions {
  /** The compose command with host paths: `redis-server <conf> --requirepass <pw> ...`. */
  readonly command: readonly string[];
  /** Data folder (the container's /data). */
  readonly dir: string;
  /** Absent or 0 = a free port. */
  readonly port?: number;
  readonly onLine?: (name: string, line: string) => void;
  readonly detached?: boolean;
}

export interface LocalRedis {
  readonly process: ServiceProcess;
  /** With the password, as the services' REDIS_URL has it. */
  readonly url: string;
  readonly port: number;
  /** From the command's --requirepass ('' when there is none). */
  readonly password: string;
}

/**
 * redis-server run with the compose command (its config file and flags), bound to loopback on a
 * local port with a local data folder: later command-line flags override the config file's.
 */
export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  await mkdir(options.dir, { recursive: true });
  const port = options.port ? options.port : await freePort();
  const [command = 'redis-server', ...args] = options.command;
  const i = args.indexOf('--requirepass');
  const password = i === -1 ? '' : (args[i + 1] ?? '');
  const redis = new ServiceProcess({
    name: 'redis',
    command,
    args: [...args, '--port', String(port), '--bind', HOST, '--dir', options.dir],
    env: process.env.PATH === undefined ? {} : { PATH: process.env.PATH },
    cwd: options.dir,
    port,
    ready: () => redisReady(port, password),
    ...(options.onLine ? { onLine: options.onLine } : {}),
    ...(options.detached === undefined ? {} : { detached: options.detached }),
  });
  await redis.start();
  const auth = password === '' ? '' : `:${encodeURIComponent(password)}@`;
  return { process: redis, url: `redis://${auth}${HOST}:${port}`, port, password };
}

/** PING answers PONG (not LOADING) and INFO says the data set is loaded. */
export async function redisReady(port: number, password: string): Promise<boolean> {
  const probe = new Redis({
    host: HOST,
    port,
    ...(password === '' ? {} : { password }),
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG' && /^loading:0\r?$/m.test(await probe.info('persistence'));
  } finally {
    probe.disconnect();
  }
}
