import { Redis, type RedisOptions } from 'ioredis';
import { resolveOptions, type ResolvedSessionLogOptions, type SessionLogOptions } from './options.js';
import { RedisLinkProbe } from './redis-link-probe.js';
import { ScriptRunner } from './script-runner.js';
import { defineScripts } from './scripts.js';
import { ServerIdentityTracker } from './server-identity.js';

/**
 * The one Redis connection behind a session log, shared by its outbound log, consumer leases
 * and inbox: the scripts defined on it, the server identity the epoch rule needs, the liveness
 * probe, and the script runner all three use.
 */
export class LogConnection {
  readonly options: ResolvedSessionLogOptions;
  readonly redis: Redis;
  readonly runner: ScriptRunner;
  private readonly identity: ServerIdentityTracker;
  private readonly probe: RedisLinkProbe;

  constructor(options: SessionLogOptions) {
    this.options = resolveOptions(options);
    const base: RedisOptions = typeof options.redis === 'string' ? {} : options.redis;
    const connection: RedisOptions = {
      ...base,
      // Fail fast instead of queueing or resending: a command must never reach a different
      // Redis process than the one whose run id it carries (see server-identity.ts).
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.options.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      connectionName: base.connectionName ?? 'holdfast-session-log',
    };
    this.redis =
      typeof options.redis === 'string' ? new Redis(options.redis, connection) : new Redis(connection);
    // Errors surface through the calls that fail; without a listener ioredis logs each one.
    this.redis.on('error', () => undefined);
    defineScripts(this.redis);
    this.probe = new RedisLinkProbe(this.redis, this.options.linkProbe);
    this.identity = new ServerIdentityTracker(this.redis, this.options.durabilityCheckIntervalMs);
    this.runner = new ScriptRunner(this.redis, this.identity, this.options);
  }

  /** Resolves once Redis is reachable and its identity is known. */
  async ready(): Promise<void> {
    await this.runner.currentIdentity();
  }

  /** True while the connection is up and answers its liveness probe in time. */
  get connected(): boolean {
    return this.probe.alive;
  }

  async close(): Promise<void> {
    this.identity.stop();
    this.probe.stop();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
