import type { Cluster } from 'ioredis';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { readFsyncsAlways, type IdentitySource, type ServerIdentity } from './server-identity.js';

/**
 * The identity scripts carry on a Redis Cluster: no run id (each script reads the run id and
 * replication state of the node that runs it, lua/lib.lua hf_identity), only the durability
 * hint, which the script can lower but never raise. The hint is "1" only while every master
 * runs with AOF and appendfsync always (CONFIG is not allowed inside scripts, so it is read
 * here, re-read every refresh interval); any master unreadable means "0". With replicas, as in
 * any cluster that fails over, the script finds them and the session is not durable anyway.
 */
export class ClusterIdentity implements IdentitySource {
  private hint: boolean | undefined;
  private waiters: Array<() => void> = [];
  private readonly refreshTimer: NodeJS.Timeout;

  constructor(
    private readonly cluster: Cluster,
    refreshIntervalMs: number,
  ) {
    cluster.on('ready', () => void this.refresh());
    if (cluster.status === 'ready') void this.refresh();
    this.refreshTimer = setInterval(() => {
      if (this.cluster.status === 'ready') void this.refresh();
    }, refreshIntervalMs);
    this.refreshTimer.unref();
  }

  current(timeoutMs: number): Promise<ServerIdentity> {
    if (this.hint !== undefined && this.cluster.status === 'ready') {
      return Promise.resolve(identityOf(this.hint));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new HoldfastError(
            ErrorCode.RedisUnavailable,
            `Redis Cluster is not reachable (waited ${timeoutMs} ms)`,
          ),
        );
      }, timeoutMs);
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(identityOf(this.hint ?? false));
      };
      this.waiters.push(waiter);
    });
  }

  stop(): void {
    clearInterval(this.refreshTimer);
  }

  private async refresh(): Promise<void> {
    const masters = this.cluster.nodes('master');
    let durable: boolean;
    try {
      const each = await Promise.all(masters.map((node) => readFsyncsAlways(node)));
      durable = each.length > 0 && each.every(Boolean);
    } catch {
      durable = false;
    }
    this.hint = durable;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

function identityOf(durableHint: boolean): ServerIdentity {
  // The empty run id tells the scripts to read their own (lib.lua hf_identity).
  return { runId: '', durable: durableHint };
}
