/**
 * The edge's watch on its Redis connections: without Redis an edge would serve a stale view, so
 * once they have been down for REDIS_LOSS_GRACE_MS it moves its clients to other edges (its
 * readiness already says not ready). The link probes (side-links.ts, the session log's own)
 * are what turn a silent link into "not connected" here.
 */
import { REDIS_LOSS_RETRY_AFTER_MS, drainConnection, type DrainableConnection } from './edge-shutdown.js';

/** How long Redis may be unreachable before this edge tells its clients to move. */
const REDIS_LOSS_GRACE_MS = 3000;
/** How often the watch looks. */
const WATCH_EVERY_MS = 500;

export class RedisWatch {
  private lostSince: number | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redisConnected: () => boolean,
    private readonly connections: () => Iterable<DrainableConnection>,
  ) {
    this.timer = setInterval(() => this.look(), WATCH_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private look(): void {
    if (this.redisConnected()) {
      this.lostSince = undefined;
      return;
    }
    const now = Date.now();
    this.lostSince ??= now;
    if (now - this.lostSince < REDIS_LOSS_GRACE_MS) return;
    this.lostSince = now; // tell the clients connected since then on the next round
    for (const connection of this.connections()) void drainConnection(connection, REDIS_LOSS_RETRY_AFTER_MS);
  }
}
