import {
  LiveSubscriptions,
  SessionLog,
  createRedisLink,
  isClusterLink,
  storedPartitions,
  type RedisLink,
} from '@holdfast/session-log';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { redactUrl } from './failures.js';
import type { Settings } from './settings.js';

/**
 * The deployment's Redis, for what the HTTP API does not offer (listing sessions, lease
 * holders, following a log live). Everything goes through the session log's public exports;
 * connections open on first use and all close together.
 */
export class RedisAccess {
  private log: SessionLog | undefined;
  private live: LiveSubscriptions | undefined;
  private plain: RedisLink | undefined;
  readonly keyPrefix: string;
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(settings: Settings) {
    this.url = settings.redisUrl;
    this.keyPrefix = settings.keyPrefix;
    this.timeoutMs = settings.timeoutMs;
  }

  /** The session log, once Redis has answered (else exit code 4, unreachable). */
  async sessionLog(): Promise<SessionLog> {
    if (!this.log) {
      // The CLI follows the deployment's partition count (stored by its first process).
      const partitions = await storedPartitions(await this.connection(), this.keyPrefix).catch(
        (error: unknown) => {
          throw this.unreachable(error);
        },
      );
      this.log = new SessionLog({
        redis: this.url,
        keyPrefix: this.keyPrefix,
        ...(partitions === undefined ? {} : { partitions }),
        commandTimeoutMs: this.timeoutMs,
      });
      await this.log.ready().catch((error: unknown) => {
        throw this.unreachable(error);
      });
    }
    return this.log;
  }

  liveSubscriptions(): LiveSubscriptions {
    this.live ??= new LiveSubscriptions(this.url);
    return this.live;
  }

  /** A plain connection for reads the session log has no method for (see lease-holders.ts). */
  async connection(): Promise<RedisLink> {
    if (!this.plain) {
      const plain = createRedisLink(this.url, 'command', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        commandTimeout: this.timeoutMs,
        connectTimeout: this.timeoutMs,
        connectionName: 'holdfast-cli',
        retryStrategy: () => null,
      });
      this.plain = plain;
      plain.on('error', () => undefined);
      // A cluster client connects to its nodes as commands need them; a PING checks the way in.
      const ready = isClusterLink(plain) ? plain.ping() : plain.connect();
      await ready.catch((error: unknown) => {
        throw this.unreachable(error);
      });
    }
    return this.plain;
  }

  async close(): Promise<void> {
    await Promise.all([
      this.log?.close(),
      this.live?.close(),
      this.plain?.quit().catch(() => this.plain?.disconnect()),
    ]);
  }

  private unreachable(error: unknown): CliError {
    const reason = error instanceof Error ? error.message : String(error);
    return new CliError(ExitCode.Unreachable, `cannot reach Redis at ${redactUrl(this.url)}: ${reason}`);
  }
}

/** Run `body` with a RedisAccess, closing its connections whatever happens. */
export async function withRedis<T>(settings: Settings, body: (redis: RedisAccess) => Promise<T>): Promise<T> {
  const redis = new RedisAccess(settings);
  try {
    return await body(redis);
  } finally {
    await redis.close();
  }
}
