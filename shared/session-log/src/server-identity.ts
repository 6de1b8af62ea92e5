import type { Redis } from 'ioredis';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';

/** What the epoch rule needs to know about the Redis process that will run a script. */
export interface ServerIdentity {
  /**
   * Changes whenever the Redis process changes (restart, failover). Empty on a Redis Cluster:
   * there each script reads the run id of the node that runs it (lua/lib.lua hf_identity).
   */
  readonly runId: string;
  /** True when that process cannot lose an acknowledged write on restart (on a cluster, a hint). */
  readonly durable: boolean;
}

/** Where a script runner gets the identity to send with each script (see script-runner.ts). */
export interface IdentitySource {
  /** The identity scripts are sent with now, waiting up to `timeoutMs` for one. */
  current(timeoutMs: number): Promise<ServerIdentity>;
  stop(): void;
}

/** A failed read of the identity on a live connection is tried again this soon. */
const READ_RETRY_MS = 200;

/**
 * Tracks the identity of the Redis server behind one connection.
 *
 * Soundness hinges on never sending a script with a stale run id: a script carrying the old
 * run id to a restarted server whose AOF lost its tail would see no change of process and
 * reuse offsets. So the identity is dropped the moment the connection closes, scripts wait
 * for it to be read again on the new connection, and the connection is configured neither to
 * queue commands while offline nor to resend unanswered ones (see log-connection.ts).
 */
export class ServerIdentityTracker implements IdentitySource {
  private identity: ServerIdentity | undefined;
  private waiters: Array<(identity: ServerIdentity) => void> = [];
  private readonly refreshTimer: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    /** How often to re-read the durability settings, which an operator may change live. */
    refreshIntervalMs: number,
  ) {
    redis.on('ready', () => void this.refresh());
    redis.on('close', () => {
      this.identity = undefined;
    });
    if (redis.status === 'ready') void this.refresh();
    this.refreshTimer = setInterval(() => {
      if (this.identity) void this.refresh();
    }, refreshIntervalMs);
    this.refreshTimer.unref();
  }

  /** The identity of the server now connected, waiting up to `timeoutMs` for one. */
  current(timeoutMs: number): Promise<ServerIdentity> {
    if (this.identity) return Promise.resolve(this.identity);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new HoldfastError(ErrorCode.RedisUnavailable, `Redis is not reachable (waited ${timeoutMs} ms)`),
        );
      }, timeoutMs);
      const waiter = (identity: ServerIdentity): void => {
        clearTimeout(timer);
        resolve(identity);
      };
      this.waiters.push(waiter);
    });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    clearTimeout(this.retryTimer);
  }

  private async refresh(): Promise<void> {
    try {
      const identity = await readServerIdentity(this.redis);
      if (this.redis.status !== 'ready') return;
      this.identity = identity;
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter(identity);
    } catch {
      // The connection failed while reading: the next 'ready' reads again. But a read can also
      // fail on a connection that stays up (a timeout on a loaded host, a refused INFO): then
      // no 'ready' follows, and without a retry every script would wait for an identity until
      // the next reconnection (the chaos suite saw edges refuse every handshake for minutes).
      if (this.redis.status === 'ready' && !this.stopped) {
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => void this.refresh(), READ_RETRY_MS);
        this.retryTimer.unref();
      }
    }
  }
}

function infoField(info: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

export async function readServerIdentity(redis: Redis): Promise<ServerIdentity> {
  const [server, replication, fsyncsAlways] = await Promise.all([
    redis.info('server'),
    redis.info('replication'),
    readFsyncsAlways(redis),
  ]);
  const runId = infoField(server, 'run_id');
  if (!runId) throw new Error('INFO server has no run_id');
  const durable =
    fsyncsAlways &&
    infoField(replication, 'role') === 'master' &&
    infoField(replication, 'connected_slaves') === '0';
  return { runId, durable };
}

/** True when this server writes its AOF with appendfsync always (loses nothing acknowledged on restart). */
export async function readFsyncsAlways(redis: Redis): Promise<boolean> {
  const persistence = await redis.info('persistence');
  // Managed Redis services often disable CONFIG; not knowing the fsync policy means not
  // durable, which only costs a reset after a restart, never a silent loss.
  let appendfsync: string | undefined;
  try {
    const reply = (await redis.config('GET', 'appendfsync')) as string[];
    appendfsync = reply[1];
  } catch {
    appendfsync = undefined;
  }
  return infoField(persistence, 'aof_enabled') === '1' && appendfsync === 'always';
}
