import type { Socket } from 'socket.io';
import {
  ErrorCode,
  HoldfastError,
  isHoldfastError,
  isOffset,
  type BatchPayload,
  type ClientToServerEvents,
  type CompletePayload,
  type LogPosition,
  type NoticePayload,
  type ResetPayload,
  type SendReply,
  type SizeLimits,
  assertMessageId,
  type ServerToClientEvents,
  type TokenRefreshReply,
} from '@holdfast/protocol';
import type { LiveNotification, LiveSubscriptions, ReadResult, SessionLog } from '@holdfast/session-log';
import { AckWriter } from './ack-writer.js';
import { CompletionClose } from './completion.js';
import { DeliveryCursor, type CursorDeps } from './delivery-cursor.js';
import type { WindowLimits } from './flow-window.js';
import { LeaseKeeper, type LeaseCheck } from './lease-keeper.js';
import { unsafeDataReason } from './payload-guard.js';
import { RateLimiter } from './rate-limiter.js';
import type { EdgeMetrics } from './metrics.js';
import { decideStart } from './start-point.js';

export type EdgeSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface ConnectionDeps {
  readonly log: SessionLog;
  readonly live: LiveSubscriptions;
  readonly window: WindowLimits;
  /** Told to clients in `hello`, so they refuse an oversize send instead of sending it. */
  readonly limits: SizeLimits;
  readonly leaseMs: number;
  /** Verify a refreshed token for this session; resolves to its consumer and expiry. */
  readonly verifyToken: (
    token: unknown,
    sessionId: string,
  ) => Promise<{ consumerId: string; expiresAt: number }>;
  readonly onClosed: (connection: SessionConnection) => void;
  readonly metrics: EdgeMetrics;
  /** Schedule the drain that will hand an accepted inbound message to a worker. */
  readonly submitDrain: (sessionId: string, generation: number) => Promise<void>;
  readonly eventsPerSecond: number;
  readonly eventsBurst: number;
  /**
   * Runs a catch-up read when one of the edge's few read slots is free (see REPLAY_READS_IN_FLIGHT
   * in edge-server.ts), so replays cannot starve handshakes and acks on the shared connection.
   */
  readonly readSlot: <T>(read: () => Promise<T>) => Promise<T>;
}

export interface AcceptedHandshake {
  readonly sessionId: string;
  readonly consumerId: string;
  readonly tokenExpiresAt: number;
  readonly position: LogPosition | undefined;
  readonly leaseGeneration: number;
  /** The protocol version the client speaks. */
  readonly protocolVersion: number;
}

const KNOWN_EVENTS = new Set(['ack', 'token', 'send']);

/** If the client has not closed its transport this long after our disconnect packet, we do. */
const TRANSPORT_CLOSE_GRACE_MS = 2000;
/** A drain waits this long at most for acks to be stored before it closes anyway. */
const ACK_FLUSH_LIMIT_MS = 2000;
/** After a disconnect, acks it had sent are still stored for this long (Redis may be slow). */
const ACK_FINISH_LIMIT_MS = 10_000;
/** A connection whose window has stayed full this long leaves its live channel (see pauseLive). */
const LIVE_PAUSE_AFTER_MS = 1000;
/**
 * Told of a delete by a failed call (ack, read, lease renewal) rather than by the live channel,
 * a connection waits this long at most for the channel's `ended` notice: it is published after
 * the notification of every earlier message, which may still be on its way.
 */
const END_NOTICE_WAIT_MS = 1000;
/** Retry of a failed re-subscription (Redis blip) while the connection lasts. */
const LIVE_RESUBSCRIBE_RETRY_MS = 250;

/**
 * One client connection to one session, after its handshake was accepted and its consumer
 * lease claimed: subscribes to the session's live channel, decides where to start, delivers
 * through a DeliveryCursor, persists acks, keeps the lease and the token current, and ends
 * with a clear notice (session ended, replaced, drain, token expired).
 */
export class SessionConnection implements CursorDeps {
  private cursor: DeliveryCursor | undefined;
  /**
   * Epochs this connection told its client to leave (a reset). An ack of one of them was sent
   * before the client saw the reset, crossing it on the wire: stale, not a client error.
   */
  private leftEpochs: Set<string> | undefined;
  private readonly acks: AckWriter;
  private readonly lease: LeaseKeeper;
  private unsubscribe: (() => Promise<void>) | undefined;
  private tokenTimer: NodeJS.Timeout | undefined;
  /** No more deliveries (closing, or draining while acks are still taken). */
  private closing = false;
  /** Cleaned up: nothing more happens on this connection. */
  private closed = false;
  private notifiedDuringStart = false;
  private livePauseTimer: NodeJS.Timeout | undefined;
  /** Off the live channel while the window stays full (a stalled client). */
  private livePaused = false;
  private liveResuming = false;
  private readonly events: RateLimiter;
  private readonly completion: CompletionClose;
  private endNoticeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: EdgeSocket,
    private readonly deps: ConnectionDeps,
    private readonly handshake: AcceptedHandshake,
  ) {
    this.acks = new AckWriter(
      (epoch, offset) =>
        deps.log
          .ack(handshake.sessionId, {
            epoch,
            offset,
            consumerId: handshake.consumerId,
            leaseGeneration: handshake.leaseGeneration,
          })
          .then(() => undefined),
      (error) => this.endFor(error),
    );
    this.lease = new LeaseKeeper(
      deps.leaseMs,
      () => this.checkLease(),
      () => this.cursor?.resume(),
      (why) => {
        if (why === 'session_gone') this.awaitEndNotice('the session has ended');
        else this.leaseEnded(why);
      },
    );
    this.events = new RateLimiter(deps.eventsPerSecond, deps.eventsBurst);
    this.completion = new CompletionClose(socket, handshake.protocolVersion, ACK_FLUSH_LIMIT_MS);
    this.scheduleTokenExpiry(handshake.tokenExpiresAt);
    socket.on('disconnect', () => this.cleanUp());
  }

  get id(): string {
    return this.socket.id;
  }

  get sessionId(): string {
    return this.handshake.sessionId;
  }

  /** Subscribe, decide the start point, say hello (and reset, if needed), start delivering. */
  async start(): Promise<void> {
    const { sessionId, consumerId } = this.handshake;
    this.unsubscribe = await this.subscribeLive();
    // Read after subscribing: anything appended from here on is announced, and anything
    // before is in this read.
    const info = await this.deps.log.info(sessionId);
    if (this.closing) return;
    const decision = decideStart(info, this.handshake.position, info.acks[consumerId] ?? 0);
    this.socket.emit('hello', {
      sessionId,
      consumerId,
      epoch: info.epoch,
      head: info.head,
      startOffset: decision.startOffset,
      ackedOffset: info.acks[consumerId] ?? 0,
      window: this.deps.window,
      tokenExpiresAt: this.handshake.tokenExpiresAt,
      limits: this.deps.limits,
      ...(info.finalOffset === undefined ? {} : { finalOffset: info.finalOffset }),
    });
    if (decision.reset) this.sendReset(decision.reset);
    // The connection is the cursor's CursorDeps itself: methods, not a closure per callback.
    this.cursor = new DeliveryCursor(this, this.deps.window, {
      epoch: info.epoch,
      offset: decision.startOffset,
      head: info.head,
      ...(info.finalOffset === undefined ? {} : { finalOffset: info.finalOffset }),
    });
    this.socket.use(([event, payload], next) => {
      if (!KNOWN_EVENTS.has(event)) {
        this.fault(ErrorCode.UnknownEvent, `unknown event ${JSON.stringify(String(event).slice(0, 64))}`);
        return;
      }
      const retryAfterMs = this.events.take();
      if (retryAfterMs > 0) {
        this.deps.metrics.rateLimited.inc();
        this.socket.emit('fault', { code: ErrorCode.RateLimited, message: 'too many events', retryAfterMs });
        return;
      }
      // Acks are taken here, as the packet is read: Socket.IO hands events to listeners a tick
      // later and drops them if the disconnect that followed was read meanwhile, and the last
      // ack before a client closes matters as much as any.
      if (event === 'ack') {
        this.onAck(payload);
        return;
      }
      next();
    });
    this.socket.on('token', (payload, reply) => void this.onTokenRefresh(payload, reply));
    this.socket.on('send', (payload, reply) => void this.onSend(payload, reply));
    this.cursor.start();
    if (this.notifiedDuringStart) this.cursor.onLive({ kind: 'resync' });
  }

  // CursorDeps: what the delivery cursor asks of its connection.

  read(from: number, limit: number, maxBytes: number): Promise<ReadResult> {
    return this.deps.readSlot(() => this.deps.log.read(this.handshake.sessionId, { from, limit, maxBytes }));
  }

  sendBatch(batch: BatchPayload): void {
    this.deps.metrics.messagesDelivered.inc(batch.data.length);
    this.socket.emit('batch', batch);
  }

  mayDeliver(): boolean {
    return !this.closing && this.lease.isValid();
  }

  onFatal(error: unknown): void {
    this.endFor(error);
  }

  /** Everything up to the final offset was sent: say so, let the last ack land, close cleanly. */
  onComplete(complete: CompletePayload): void {
    if (this.closing) return;
    this.closing = true; // no more deliveries; acks are still taken and stored
    this.completion.onAck(this.cursor?.position.acked ?? 0); // a client already at the end
    void this.completion
      .run(complete, () => this.acks.flush())
      .then(() => {
        this.cleanUp();
        this.disconnect();
      });
  }

  onWindowFull(): void {
    this.livePauseTimer ??= setTimeout(() => this.pauseLive(), LIVE_PAUSE_AFTER_MS);
    this.livePauseTimer.unref();
  }

  onWindowOpen(): void {
    clearTimeout(this.livePauseTimer);
    this.livePauseTimer = undefined;
    if (this.livePaused) void this.resumeLive();
  }

  private subscribeLive(): Promise<() => Promise<void>> {
    return this.deps.live.subscribe(this.deps.log.keys(this.handshake.sessionId).live, (n) => this.onLive(n));
  }

  /**
   * A client whose window has stayed full needs no live notifications: none could be
   * forwarded, and receiving and dropping every appended batch for a stalled client is what
   * made an edge's memory grow with the backlog. So the connection leaves its live channel
   * until an ack makes room, then subscribes again and reads the stream from where it is,
   * as at start (nothing appended meanwhile is missed: the read comes after the subscription).
   */
  private pauseLive(): void {
    this.livePauseTimer = undefined;
    const unsubscribe = this.unsubscribe;
    if (this.closing || this.livePaused || !unsubscribe) return;
    this.livePaused = true;
    this.unsubscribe = undefined;
    void unsubscribe();
  }

  private async resumeLive(): Promise<void> {
    if (!this.livePaused || this.liveResuming || this.closed) return;
    this.liveResuming = true;
    try {
      const unsubscribe = await this.subscribeLive();
      if (this.closed) {
        void unsubscribe();
        return;
      }
      this.unsubscribe = unsubscribe;
      this.livePaused = false;
      // Whatever was appended while off the channel was not announced: read it.
      this.cursor?.onLive({ kind: 'resync' });
    } catch {
      setTimeout(() => void this.resumeLive(), LIVE_RESUBSCRIBE_RETRY_MS).unref();
    } finally {
      this.liveResuming = false;
    }
  }

  sendReset(reset: ResetPayload): void {
    if (reset.oldEpoch !== null && reset.oldEpoch !== reset.newEpoch)
      (this.leftEpochs ??= new Set()).add(reset.oldEpoch);
    this.deps.metrics.resets.inc({ reason: reset.reason });
    this.socket.emit('reset', reset);
  }

  /** A newer connection of the same consumer took over. */
  replace(): void {
    this.closeWith('replaced', {
      code: ErrorCode.Replaced,
      message: 'a newer connection of this consumer took over',
    });
  }

  /** Move this client to another edge: persist its acks first, then close cleanly. */
  async drain(retryAfterMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.socket.emit('drain', {
      code: ErrorCode.ServerDraining,
      message: 'this edge is shutting down; reconnect',
      retryAfterMs,
    });
    // Acks that arrive meanwhile are still taken and stored; the next edge starts after them.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.acks.flush(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ACK_FLUSH_LIMIT_MS))),
    ]);
    clearTimeout(timer);
    this.cleanUp();
    this.disconnect();
  }

  end(code: ErrorCode, message: string): void {
    if (code === ErrorCode.SessionEnded || code === ErrorCode.SessionNotFound) {
      this.closeWith('session_ended', { code: ErrorCode.SessionEnded, message });
    } else {
      this.closeWith('fault', { code, message });
    }
  }

  /**
   * The lease is no longer this connection's: a newer connection took over (`replaced`, a stop
   * for the client), or Redis lost the claim (`rolled_back`): nobody replaced this client, so it
   * gets a retryable fault and claims the lease again when it reconnects.
   */
  private leaseEnded(why: 'lost' | 'rolled_back'): void {
    if (why === 'lost') this.replace();
    else
      this.end(
        ErrorCode.RedisUnavailable,
        "Redis lost this connection's lease (restored from older data); reconnect",
      );
  }

  private endFor(error: unknown): void {
    if (isHoldfastError(error)) {
      // A fenced ack carries the consumer's current generation: the same test as a lease check.
      if (error.code === ErrorCode.Replaced) this.leaseEnded(this.compareLease(error.details?.generation));
      else if (error.code === ErrorCode.SessionEnded && error.details?.reason === 'deleted')
        this.awaitEndNotice(error.message);
      else this.end(error.code, error.message);
    } else {
      this.end(ErrorCode.RedisUnavailable, 'the edge failed to serve this session; reconnect');
    }
  }

  /**
   * The session was deleted, learnt from a failed call: the channel's `ended` notice may still
   * be behind notifications of messages the producer was told were stored. Keep forwarding what
   * comes until the notice (which then closes, see onLive), or until END_NOTICE_WAIT_MS.
   */
  private awaitEndNotice(message: string): void {
    if (this.closing || this.endNoticeTimer) return;
    if (!this.unsubscribe) {
      this.end(ErrorCode.SessionEnded, message); // off the channel: no notice will come
      return;
    }
    this.endNoticeTimer = setTimeout(() => this.end(ErrorCode.SessionEnded, message), END_NOTICE_WAIT_MS);
    this.endNoticeTimer.unref();
  }

  private onLive(notification: LiveNotification): void {
    if (notification.kind === 'ended') {
      // Messages announced before the delete go out first, from the notifications themselves.
      this.cursor?.finish();
      this.closeWith('session_ended', {
        code: ErrorCode.SessionEnded,
        message: `the session has ended (${notification.reason})`,
      });
      return;
    }
    if (this.cursor) this.cursor.onLive(notification);
    else this.notifiedDuringStart = true;
  }

  private onAck(payload: unknown): void {
    const cursor = this.cursor;
    if (!cursor || this.closed) return;
    const { epoch, offset } = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
      string,
      unknown
    >;
    if (typeof epoch !== 'string' || !isOffset(offset)) {
      this.fault(ErrorCode.InvalidAck, 'ack must be { epoch: string, offset: non-negative integer }');
      return;
    }
    // Taken even while the lease is unconfirmed (Redis slow or restarting): the client sends
    // each ack once, so one dropped here would leave the flow window full of messages it has
    // handled, and nothing more would be delivered on this connection once the lease is back.
    // The stored write is still fenced by the lease generation in Redis (ack-3.lua): a
    // replaced connection's ack is refused there and ends it, as a lease check would.
    if (epoch !== cursor.position.epoch) {
      if (this.leftEpochs?.has(epoch)) return; // crossed the reset on the wire: nothing to store
      this.fault(
        ErrorCode.InvalidAck,
        `ack is for epoch ${epoch}, the connection is in ${cursor.position.epoch}`,
      );
      return;
    }
    try {
      if (offset < cursor.position.acked) {
        this.fault(ErrorCode.InvalidAck, `ack ${offset} goes backwards from ${cursor.position.acked}`);
        return;
      }
      if (cursor.onAck(offset)) {
        this.acks.submit(epoch, offset);
        this.completion.onAck(offset);
      }
    } catch (error) {
      if (isHoldfastError(error)) this.fault(error.code, error.message);
      else throw error;
    }
  }

  /**
   * An inbound message: stored in the session's inbox and its drain scheduled before the
   * client is told `ok`; a resent id is acknowledged again without a second copy.
   */
  private async onSend(payload: unknown, reply: unknown): Promise<void> {
    if (typeof reply !== 'function') {
      this.fault(ErrorCode.InvalidPayload, 'send needs an acknowledgement callback');
      return;
    }
    const answer = reply as (result: SendReply) => void;
    try {
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        throw new HoldfastError(ErrorCode.InvalidPayload, 'send takes { id, data }');
      }
      const { id, data } = payload as { id?: unknown; data?: unknown };
      assertMessageId(id);
      const unsafe = unsafeDataReason(data);
      if (unsafe) throw new HoldfastError(ErrorCode.InvalidPayload, unsafe);
      const accepted = await this.deps.log.enqueueInbound(this.handshake.sessionId, {
        id,
        data,
        consumerId: this.handshake.consumerId,
      });
      // Submitted even for a resend: the drain named by the generation may not exist yet if an
      // edge died between storing the message and submitting its drain.
      if (accepted.generation > 0) await this.deps.submitDrain(this.handshake.sessionId, accepted.generation);
      answer({ ok: true, id, seq: accepted.seq, duplicate: accepted.duplicate });
    } catch (error) {
      const e = isHoldfastError(error)
        ? error
        : new HoldfastError(ErrorCode.RedisUnavailable, 'the message could not be stored; resend it');
      const retryAfterMs = e.details?.retryAfterMs;
      answer({
        ok: false,
        code: e.code,
        message: e.message,
        ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
      });
    }
  }

  private async onTokenRefresh(payload: unknown, reply: unknown): Promise<void> {
    if (typeof reply !== 'function') return;
    const answer = reply as (result: TokenRefreshReply) => void;
    const token =
      typeof payload === 'object' && payload !== null ? (payload as { token?: unknown }).token : undefined;
    try {
      const verified = await this.deps.verifyToken(token, this.handshake.sessionId);
      if (verified.consumerId !== this.handshake.consumerId) {
        throw new HoldfastError(ErrorCode.TokenWrongSession, 'the new token names another consumer');
      }
      this.scheduleTokenExpiry(verified.expiresAt);
      answer({ ok: true, tokenExpiresAt: verified.expiresAt });
    } catch (error) {
      const e = isHoldfastError(error)
        ? error
        : new HoldfastError(ErrorCode.TokenInvalid, 'the token could not be verified');
      answer({ ok: false, code: e.code, message: e.message });
    }
  }

  private scheduleTokenExpiry(expiresAt: number): void {
    clearTimeout(this.tokenTimer);
    // setTimeout caps at ~24.8 days; tokens live far less.
    const delay = Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1);
    this.tokenTimer = setTimeout(
      () =>
        this.closeWith('fault', {
          code: ErrorCode.TokenExpired,
          message: 'the token expired; reconnect with a fresh one',
        }),
      delay,
    );
    this.tokenTimer.unref();
  }

  private async checkLease(): Promise<LeaseCheck> {
    const generation = await this.deps.log.renewLease(
      this.handshake.sessionId,
      this.handshake.consumerId,
      this.handshake.leaseGeneration,
      this.deps.leaseMs,
    );
    if (generation === undefined) return 'session_gone';
    if (generation === this.handshake.leaseGeneration) return 'held';
    return this.compareLease(generation);
  }

  /** Generations only grow: a lower one than ours means Redis lost writes, not a takeover. */
  private compareLease(current: unknown): 'lost' | 'rolled_back' {
    return typeof current === 'number' && current < this.handshake.leaseGeneration ? 'rolled_back' : 'lost';
  }

  private fault(code: ErrorCode, message: string): void {
    this.socket.emit('fault', { code, message });
  }

  private closeWith(event: 'session_ended' | 'replaced' | 'fault', notice: NoticePayload): void {
    if (this.closing) return;
    this.closing = true;
    this.cleanUp();
    this.socket.emit(event, notice);
    this.disconnect();
  }

  /**
   * A clean close: the Socket.IO disconnect packet follows the notice on the same transport
   * (the client sees 'io server disconnect', not a transport error), then the client closes
   * its WebSocket with a close frame; a client that does not is closed from here.
   */
  private disconnect(): void {
    this.socket.disconnect();
    const conn = this.socket.conn;
    setTimeout(() => conn.close(), TRANSPORT_CLOSE_GRACE_MS).unref();
  }

  private cleanUp(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.cursor?.stop();
    this.lease.stop();
    clearTimeout(this.tokenTimer);
    clearTimeout(this.livePauseTimer);
    clearTimeout(this.endNoticeTimer);
    this.acks.finish(ACK_FINISH_LIMIT_MS);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    void unsubscribe?.();
    // The consumer no longer counts as connected (a no-op if a newer connection took over).
    const { sessionId, consumerId, leaseGeneration } = this.handshake;
    this.deps.log.releaseLease(sessionId, consumerId, leaseGeneration).catch(() => undefined);
    this.deps.onClosed(this);
  }
}
