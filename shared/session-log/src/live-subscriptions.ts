import { Redis, type RedisOptions } from 'ioredis';
import { decodeLiveNotification, type LiveNotification } from './live-notification.js';
import { toHoldfastError } from './redis-errors.js';
import { RedisLinkProbe, type LinkProbeOptions } from './redis-link-probe.js';

export type LiveListener = (notification: LiveNotification) => void;

/**
 * One process's subscriptions to sessions' live channels, over a single sharded pub/sub
 * connection. Subscriptions are reference-counted: many connections to one session cost one
 * SSUBSCRIBE. After a reconnect, ioredis re-subscribes by itself; once Redis has confirmed it,
 * every listener gets `resync`, since whatever was published meanwhile was missed.
 */
export class LiveSubscriptions {
  private readonly redis: Redis;
  private readonly listeners = new Map<string, Set<LiveListener>>();
  private connectedBefore = false;
  private readonly probe: RedisLinkProbe;

  constructor(redis: string | RedisOptions, linkProbe: LinkProbeOptions = {}) {
    const options: RedisOptions = {
      ...(typeof redis === 'string' ? {} : redis),
      connectionName: 'holdfast-live',
      maxRetriesPerRequest: null,
    };
    this.redis = typeof redis === 'string' ? new Redis(redis, options) : new Redis(options);
    this.redis.on('error', () => undefined);
    this.redis.on('smessage', (channel: string, message: string) => this.dispatch(channel, message));
    this.redis.on('ready', () => {
      if (this.connectedBefore) void this.announceResync();
      this.connectedBefore = true;
    });
    // A silent subscriber link loses every notification without a word: probe it too.
    this.probe = new RedisLinkProbe(this.redis, linkProbe);
  }

  /** Subscribe to a channel; resolves once Redis confirms, returns the unsubscribe function. */
  async subscribe(channel: string, listener: LiveListener): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    const first = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    if (first) {
      try {
        await this.redis.ssubscribe(channel);
      } catch (error) {
        set.delete(listener);
        if (set.size === 0) this.listeners.delete(channel);
        throw toHoldfastError(error);
      }
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(channel);
        await this.redis.sunsubscribe(channel).catch(() => undefined);
      }
    };
  }

  /** True while the pub/sub connection is up and answers its liveness probe in time. */
  get connected(): boolean {
    return this.probe.alive;
  }

  get channelCount(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.probe.stop();
    // QUIT would wait for a reconnection while Redis is away; then just drop the socket.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  private dispatch(channel: string, message: string): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    const notification = decodeLiveNotification(message);
    if (!notification) return;
    for (const listener of set) listener(notification);
  }

  private async announceResync(): Promise<void> {
    try {
      // Redis answers in order: once PING returns, the re-subscriptions sent before it hold.
      await this.redis.ping();
    } catch {
      return; // disconnected again; the next 'ready' announces
    }
    for (const set of this.listeners.values()) for (const listener of set) listener({ kind: 'resync' });
  }
}
