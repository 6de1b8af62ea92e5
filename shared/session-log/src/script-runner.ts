import { assertSessionId } from '@holdfast/protocol';
import { newEpoch } from './epoch-id.js';
import { sessionKeys, type SessionKeys } from './keys.js';
import type { ResolvedSessionLogOptions } from './options.js';
import { toHoldfastError } from './redis-errors.js';
import { checkReply } from './script-errors.js';
import { ScriptMetrics } from './script-metrics.js';
import type { ScriptStatusValue } from './script-status.js';
import { runScript, type ScriptName, type ScriptReply } from './scripts.js';
import { retryWhileSlotMigrates } from './slot-migration-retry.js';
import { isClusterLink, type CommandLink } from './redis-clients.js';
import type { IdentitySource, ServerIdentity } from './server-identity.js';

type ScriptArg = string | number;

/**
 * Runs the session log's scripts for the outbound log, the consumer leases and the inbox alike:
 * EVALSHA with the NOSCRIPT fallback (scripts.ts), Redis client failures mapped to typed errors
 * (redis-errors.ts), and every reply through the one status checker (script-errors.ts). On a
 * cluster, a call refused while its slot migrates is sent again (slot-migration-retry.ts).
 */
export class ScriptRunner {
  private readonly metrics: ScriptMetrics | undefined;
  private clusterCheck: Promise<boolean> | undefined;

  constructor(
    readonly redis: CommandLink,
    readonly identity: IdentitySource,
    readonly options: ResolvedSessionLogOptions,
  ) {
    this.metrics = options.metricsRegistry ? new ScriptMetrics(options.metricsRegistry) : undefined;
  }

  /** The keys of a session, after checking its id. */
  keys(sessionId: string): SessionKeys {
    assertSessionId(sessionId);
    return sessionKeys(this.options.keyPrefix, sessionId, this.options.partitions);
  }

  /** The identity of the Redis behind the connection, waiting for it after a reconnect. */
  currentIdentity(): Promise<ServerIdentity> {
    return this.identity.current(this.options.commandTimeoutMs);
  }

  /**
   * Run a script and check its reply: any status but `accepted` (by default only `Ok`) throws
   * the typed error for it.
   */
  async run(
    sessionId: string,
    name: ScriptName,
    keys: string[],
    args: ScriptArg[],
    accepted?: readonly ScriptStatusValue[],
  ): Promise<ScriptReply> {
    let reply: ScriptReply;
    const stopTimer = this.metrics?.seconds.startTimer({ script: name });
    try {
      reply = await this.retryOnSlotMove(() => runScript(this.redis, name, keys, args));
    } catch (error) {
      stopTimer?.({ outcome: 'error' });
      throw toHoldfastError(error);
    }
    stopTimer?.({ outcome: 'ok' });
    return checkReply(reply, sessionId, accepted);
  }

  /**
   * Run `call` (a script call) again while Redis refuses it with TRYAGAIN because its slot is
   * migrating, up to `slotMigrationRetryMs`; each retry is counted in the metrics.
   */
  retryOnSlotMove<T>(call: () => Promise<T>): Promise<T> {
    return retryWhileSlotMigrates(call, this.options.slotMigrationRetryMs, () =>
      this.metrics?.slotMigrationRetries.inc(),
    );
  }

  /**
   * Whether a many-session script call (appends, acks, claims, starts, lease renewals) may only carry sessions of one
   * partition, because its keys must share a slot: on a cluster client, and on a plain
   * connection to a cluster node (a single-node cluster still refuses CROSSSLOT). The latter is
   * asked once (INFO cluster); when it cannot be told, assume a cluster, which is valid
   * everywhere and only costs more calls. On a standalone Redis any sessions may share a call.
   */
  onePartitionPerCall(): Promise<boolean> {
    if (isClusterLink(this.redis)) return Promise.resolve(true);
    this.clusterCheck ??= this.redis.info('cluster').then(
      (text) => !/^cluster_enabled:0\s*$/m.test(text),
      () => {
        this.clusterCheck = undefined; // ask again next time
        return true;
      },
    );
    return this.clusterCheck;
  }

  /**
   * Run a script that applies the epoch rule (lua/lib.lua): it takes the server identity, a
   * candidate epoch and the live channel before its own arguments.
   */
  async runWithIdentity(
    sessionId: string,
    name: ScriptName,
    scriptKeys: string[],
    keys: SessionKeys,
    args: ScriptArg[],
  ): Promise<ScriptReply> {
    const identity = await this.currentIdentity();
    return this.run(sessionId, name, scriptKeys, [...identityArgs(identity), keys.live, ...args]);
  }
}

/** The first arguments of every script that applies the epoch rule, before the live channel. */
export function identityArgs(identity: ServerIdentity): [string, string, string] {
  return [identity.runId, identity.durable ? '1' : '0', newEpoch()];
}
