import type { RedisOptions } from 'ioredis';
import { ClusterIdentity } from './cluster-identity.js';
import { everyMaster } from './cluster-probe.js';
import { resolveOptions, type ResolvedSessionLogOptions, type SessionLogOptions } from './options.js';
import { createRedisLink, isClusterLink, type CommandLink } from './redis-clients.js';
import { RedisLinkProbe } from './redis-link-probe.js';
import { ScriptRunner } from './script-runner.js';
import { defineScripts } from './scripts.js';
import { ServerIdentityTracker, type IdentitySource } from './server-identity.js';

/**
 * The one Redis connection behind a session log, shared by its outbound log, consumer leases
 * and inbox: the scripts defined on it, the server identity the epoch rule needs, the liveness
 * probe, and the script runner all three use. On a Redis Cluster it is a Cluster client: the
 * scripts read their node's identity themselves and the probe covers every master.
 */
export class LogConnection {
  readonly options: ResolvedSessionLogOptions;
  readonly redis: CommandLink;
  readonly runner: ScriptRunner;
  private readonly identity: IdentitySource;
  private readonly probe: RedisLinkProbe;

  constructor(options: SessionLogOptions) {
    this.options = resolveOptions(options);
    const base: RedisOptions = typeof options.redis === 'string' ? {} : options.redis;
    const connection: RedisOptions = {
      // Fail fast instead of queueing or resending: a command must never reach a different
      // Redis process than the one whose run id it carries (see server-identity.ts).
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.options.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      connectionName: base.connectionName ?? 'holdfast-session-log',
    };
    const redis = createRedisLink(options.redis, 'command', connection);
    // Errors surface through the calls that fail; without a listener ioredis logs each one.
    redis.on('error', () => undefined);
    defineScripts(redis);
    const interval = this.options.durabilityCheckIntervalMs;
    if (isClusterLink(redis)) {
      this.probe = new RedisLinkProbe(everyMaster(redis), this.options.linkProbe);
      this.identity = new ClusterIdentity(redis, interval);
    } else {
      this.probe = new RedisLinkProbe(redis, this.options.linkProbe);
      this.identity = new ServerIdentityTracker(redis, interval);
    }
    this.redis = redis;
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
