import type { Cluster } from 'ioredis';
import { everyMaster } from './cluster-probe.js';
import { clusterSlotOf } from './cluster-slot.js';
import { decodeLiveNotification, type LiveNotification } from './live-notification.js';
import {
  createRedisLink,
  isClusterLink,
  type RedisConnectionTarget,
  type RedisLink,
} from './redis-clients.js';
import { toHoldfastError } from './redis-errors.js';
import { RedisLinkProbe, type LinkProbeOptions } from './redis-link-probe.js';
import { ShardedSubscriberProbes } from './sharded-subscriber-probes.js';

export type LiveListener = (notification: LiveNotification) => void;

/** A listener that is an object with a method: a holder of many subscriptions needs no closures. */
export interface LiveReceiver {
  onNotification(notification: LiveNotification): void;
}

type Listening = LiveListener | LiveReceiver;
/**
 * A channel's listeners: the one listener itself (the usual case, one connection per session,
 * without a set's hash table), or a set once there are more.
 */
type Listeners = Listening | Set<Listening>;

function tell(listening: Listening, notification: LiveNotification): void {
  if (typeof listening === 'function') listening(notification);
  else listening.onNotification(notification);
}

function tellAll(listeners: Listeners | undefined, notification: LiveNotification): void {
  if (listeners === undefined) return;
  if (listeners instanceof Set) for (const listening of listeners) tell(listening, notification);
  else tell(listeners, notification);
}

/**
 * One process's subscriptions to sessions' live channels, over a single sharded pub/sub
 * connection. Subscriptions are reference-counted: many connections to one session cost one
 * SSUBSCRIBE. After a reconnect, ioredis re-subscribes by itself; once Redis has confirmed it,
 * every listener gets `resync`, since whatever was published meanwhile was missed.
 *
 * On a Redis Cluster each channel is subscribed on the master that owns its slot (ioredis
 * `shardedSubscribers`: one subscriber connection per master). After a failover or a slot move
 * ioredis rebuilds its subscribers and re-subscribes (`subscribersReady`), without waiting for
 * the answers; so this subscribes every channel once more, waits for those answers, then tells
 * every listener `resync`.
 *
 * A slot move (reshard) needs one more step: the old owner drops the slot's subscriptions with
 * a server-side `sunsubscribe`, but ioredis learns of the move only at its next slot refresh
 * (a MOVED on this connection, or its periodic refresh), and until then the channel is
 * subscribed nowhere: live delivery stalls. ioredis surfaces the unsolicited `sunsubscribe` only
 * as a `nodeError` ("Command queue state error … Last reply: sunsubscribe,<channel>,<count>"), so
 * this reads the channel from it, refreshes the slot map at once, subscribes the channel on its
 * new owner and tells its listeners `resync`. The subscriber also polls the slot map
 * (redis-clients.ts), a backstop should such an error be lost.
 *
 * Every subscriber connection is probed with a deadline (redis-link-probe.ts): on a single
 * server the one connection, on a cluster each sharded subscriber connection as well as every
 * master's command link (sharded-subscriber-probes.ts). A silent connection is dropped, its
 * channels' listeners get `resync` at once (they read the log instead of waiting on
 * notifications that cannot come) and again once resubscribed; until then `connected` is false.
 */
export class LiveSubscriptions {
  private readonly redis: RedisLink;
  private readonly listeners = new Map<string, Listeners>();
  private connectedBefore = false;
  private readonly probe: RedisLinkProbe;
  private readonly subscriberProbes: ShardedSubscriberProbes | undefined;
  /** Channels their old owner dropped (a slot move), waiting to be subscribed on the new one. */
  private readonly dropped = new Set<string>();
  private following = false;

  constructor(redis: RedisConnectionTarget, linkProbe: LinkProbeOptions = {}) {
    this.redis = createRedisLink(redis, 'subscriber', { connectionName: 'holdfast-live' });
    this.redis.on('error', () => undefined);
    this.redis.on('smessage', (channel: string, message: string) => this.dispatch(channel, message));
    if (isClusterLink(this.redis)) {
      const cluster = this.redis;
      cluster.on('subscribersReady', () => void this.resubscribeEverywhere(cluster));
      cluster.on('nodeError', (error: unknown) => this.onNodeError(cluster, error));
      // Every master's command link (a silent master), and each subscriber connection on its own
      // (a silent subscriber connection to a master whose command link is fine).
      this.probe = new RedisLinkProbe(everyMaster(cluster), linkProbe);
      this.subscriberProbes = new ShardedSubscriberProbes(cluster, linkProbe, (nodeKey) =>
        this.announceShardResync(cluster, nodeKey),
      );
      return;
    }
    this.redis.on('ready', () => {
      if (this.connectedBefore) void this.announceResync();
      this.connectedBefore = true;
    });
    // A silent subscriber link loses every notification without a word: probe it too. PING is
    // valid in subscribe mode; on reconnection 'ready' above announces resync to every channel.
    this.probe = new RedisLinkProbe(this.redis, linkProbe);
    this.subscriberProbes = undefined;
  }

  /** Subscribe to a channel; resolves once Redis confirms, returns the unsubscribe function. */
  async subscribe(channel: string, listener: LiveListener): Promise<() => Promise<void>> {
    await this.listen(channel, listener);
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      await this.unlisten(channel, listener);
    };
  }

  /**
   * Subscribe `listener` to a channel; resolves once Redis confirms. Each call is undone by one
   * `unlisten` (a listener already on the channel is not added twice).
   */
  async listen(channel: string, listener: LiveListener | LiveReceiver): Promise<void> {
    const current = this.listeners.get(channel);
    if (current === undefined) this.listeners.set(channel, listener);
    else if (current instanceof Set) current.add(listener);
    else if (current !== listener) this.listeners.set(channel, new Set([current, listener]));
    if (current !== undefined) return;
    try {
      await this.redis.ssubscribe(channel);
    } catch (error) {
      this.drop(channel, listener);
      throw toHoldfastError(error);
    }
  }

  /** Take `listener` off a channel; the last one off unsubscribes it. */
  async unlisten(channel: string, listener: LiveListener | LiveReceiver): Promise<void> {
    if (this.drop(channel, listener)) await this.redis.sunsubscribe(channel).catch(() => undefined);
  }

  /** True while the pub/sub connections are up and answer their liveness probes in time. */
  get connected(): boolean {
    return this.probe.alive && (this.subscriberProbes?.healthy ?? true);
  }

  get channelCount(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.probe.stop();
    this.subscriberProbes?.stop();
    // QUIT would wait for a reconnection while Redis is away; then just drop the socket.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  /** Take `listener` off `channel`; true when that left the channel without listeners. */
  private drop(channel: string, listener: Listening): boolean {
    const current = this.listeners.get(channel);
    if (current instanceof Set) {
      if (!current.delete(listener) || current.size > 0) return false;
    } else if (current === undefined || current !== listener) {
      return false;
    }
    this.listeners.delete(channel);
    return true;
  }

  private dispatch(channel: string, message: string): void {
    const listeners = this.listeners.get(channel);
    if (!listeners) return;
    const notification = decodeLiveNotification(message);
    if (!notification) return;
    tellAll(listeners, notification);
  }

  /**
   * After ioredis rebuilt its sharded subscribers (a failover, a slot move, a lost node), make
   * sure every channel is subscribed where it now lives, then announce `resync`. Subscribing
   * twice is harmless; the answers are what tell us the subscriptions hold.
   */
  private async resubscribeEverywhere(cluster: Cluster): Promise<void> {
    const channels = [...this.listeners.keys()];
    // A channel that could not be subscribed now is retried at the next rebuild; its listeners
    // get resync anyway, so they read the log instead of waiting on a notification.
    await Promise.allSettled(channels.map((channel) => cluster.ssubscribe(channel)));
    for (const listeners of this.listeners.values()) tellAll(listeners, { kind: 'resync' });
  }

  private onNodeError(cluster: Cluster, error: unknown): void {
    const message = error instanceof Error ? error.message : '';
    if (!message.startsWith('Command queue state error')) return;
    const channel = /Last reply: sunsubscribe,([^,]+),/.exec(message)?.[1];
    if (channel !== undefined) {
      if (!this.listeners.has(channel)) return;
      this.dropped.add(channel);
    } else {
      // The unsolicited sunsubscribe arrived while a command of ours was pending, so ioredis
      // took it for that command's answer and now reports the real answer as unexpected: which
      // channel was dropped is unknown, so follow them all.
      for (const known of this.listeners.keys()) this.dropped.add(known);
    }
    if (!this.following) void this.followSlotMoves(cluster);
  }

  /**
   * Subscribe the dropped channels where their slots live now. The slot map is refreshed first
   * (one refresh for every channel dropped meanwhile), so each SSUBSCRIBE goes to the new owner;
   * when the refresh rebuilt the subscribers, `resubscribeEverywhere` runs as well: subscribing
   * twice is harmless.
   */
  private async followSlotMoves(cluster: Cluster): Promise<void> {
    this.following = true;
    try {
      while (this.dropped.size > 0) {
        await withinDeadline(new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve())));
        const channels = [...this.dropped].filter((channel) => this.listeners.has(channel));
        this.dropped.clear();
        // Each SSUBSCRIBE within a deadline: during a reshard one can hang (sent to a subscriber
        // connection ioredis is replacing), and a hung round held every later move behind it
        // until the slot-map poll (2 s of silence per moved channel, seen in reshard.test.ts).
        const results = await Promise.allSettled(
          channels.map((channel) => withinDeadline(cluster.ssubscribe(channel))),
        );
        channels.forEach((channel, i) => {
          // Not subscribed yet (the new owner unreachable, a refresh still under way): try again.
          if (results[i]?.status === 'rejected') this.dropped.add(channel);
          // Whatever was published while the channel was subscribed nowhere was missed.
          tellAll(this.listeners.get(channel), { kind: 'resync' });
        });
        if (this.dropped.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      this.following = false;
    }
  }

  /**
   * A master's subscriber connection was declared dead: its channels have been deaf since it
   * went silent, so their listeners read the log now. They hear `resync` again once ioredis has
   * replaced the connection and `resubscribeEverywhere` has the subscriptions confirmed.
   */
  private announceShardResync(cluster: Cluster, nodeKey: string): void {
    for (const [channel, listeners] of this.listeners) {
      if (cluster.slots[clusterSlotOf(channel)]?.[0] !== nodeKey) continue;
      tellAll(listeners, { kind: 'resync' });
    }
  }

  private async announceResync(): Promise<void> {
    try {
      // Redis answers in order: once PING returns, the re-subscriptions sent before it hold.
      await this.redis.ping();
    } catch {
      return; // disconnected again; the next 'ready' announces
    }
    for (const listeners of this.listeners.values()) tellAll(listeners, { kind: 'resync' });
  }
}

/** How long one step of following a slot move may take before it is tried again. */
const FOLLOW_STEP_DEADLINE_MS = 500;

/** `promise`, or a rejection once the deadline passed (what it does later is ignored). */
function withinDeadline<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('slot move step timed out')), FOLLOW_STEP_DEADLINE_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
