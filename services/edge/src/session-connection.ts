/**
 * One client connection to one session, after its handshake was accepted and its consumer lease
 * claimed. It wires the concepts that live in their own modules — the live channel, the
 * delivery cursor, ack intake and writing, inbound sends, token lifetime, lease fencing, the
 * close protocol, the drain sequence — and holds the one piece of state they share: whether it
 * is still delivering (`closing`) and whether it is cleaned up (`closed`).
 */
import {
  ErrorCode,
  isHoldfastError,
  type BatchPayload,
  type CompletePayload,
  type NoticePayload,
  type ResetPayload,
} from '@holdfast/protocol';
import { sessionLogger, type Logger } from '@holdfast/config';
import type { LiveNotification, ReadResult } from '@holdfast/session-log';
import { AckIntake } from './ack-intake.js';
import { AckWriter } from './ack-writer.js';
import { gateClientEvents } from './client-event-gate.js';
import {
  END_NOTICE_WAIT_MS,
  REPLACED,
  TOKEN_EXPIRED,
  closeTransport,
  endNotice,
  failureOutcome,
  leaseLossNotice,
  type CloseNotice,
} from './close-protocol.js';
import { CompletionClose } from './completion.js';
import { ConnectionObserver } from './connection-observer.js';
import { DeliveryCursor, type CursorDeps } from './delivery-cursor.js';
import { ACK_FINISH_LIMIT_MS, ACK_FLUSH_LIMIT_MS, type DrainableConnection } from './edge-shutdown.js';
import type { AcceptedHandshake, ConnectionDeps, EdgeSocket } from './connection-types.js';
import { acceptSend } from './inbound-send.js';
import type { LeaseKeeper } from './lease-fencing.js';
import { LiveChannel } from './live-channel.js';
import type { EdgeMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { decideStart } from './start-point.js';
import { TokenLifetime } from './token-lifetime.js';

export type { AcceptedHandshake, ConnectionDeps, EdgeSocket } from './connection-types.js';

export class SessionConnection implements CursorDeps, DrainableConnection {
  private cursor: DeliveryCursor | undefined;
  private readonly acks: AckWriter;
  private readonly ackIntake: AckIntake;
  private readonly lease: LeaseKeeper;
  private readonly liveChannel: LiveChannel;
  private readonly token: TokenLifetime;
  /** No more deliveries (closing, or draining while acks are still taken). */
  private closing = false;
  /** Cleaned up: nothing more happens on this connection. */
  private closed = false;
  private notifiedDuringStart = false;
  private readonly events: RateLimiter;
  private readonly completion: CompletionClose;
  private endNoticeTimer: NodeJS.Timeout | undefined;
  /** Every line about this connection carries its session, consumer and connection id. */
  private sessionLog: Logger | undefined;
  /** Lag, stall and delivery latency, for the edge's metrics. */
  readonly observed: ConnectionObserver;

  /**
   * This connection's child logger, made on first use: a pino child per connection costs about
   * a kilobyte of heap, and most idle connections never log a line.
   */
  private get logger(): Logger {
    const { sessionId, consumerId } = this.handshake;
    this.sessionLog ??= sessionLogger(this.deps.logger, {
      sessionId,
      consumerId,
      connectionId: this.socket.id,
    });
    return this.sessionLog;
  }

  constructor(
    private readonly socket: EdgeSocket,
    private readonly deps: ConnectionDeps,
    private readonly handshake: AcceptedHandshake,
  ) {
    const { sessionId, consumerId, leaseGeneration } = handshake;
    this.observed = new ConnectionObserver(deps.metrics);
    this.acks = new AckWriter(
      (epoch, offset) =>
        deps.log.ack(sessionId, { epoch, offset, consumerId, leaseGeneration }).then(() => undefined),
      (error) => this.endFor(error),
    );
    this.lease = deps.leases.keep(
      { sessionId, consumerId, generation: leaseGeneration },
      () => this.cursor?.resume(),
      (why) => {
        if (why === 'session_gone') this.awaitEndNotice('the session has ended');
        else this.closeWith(leaseLossNotice(why));
      },
    );
    this.ackIntake = new AckIntake({
      store: (epoch, offset) => {
        this.acks.submit(epoch, offset);
        this.observed.onAck(offset);
        this.completion.onAck(offset);
      },
      fault: (code, message) => this.fault(code, message),
    });
    this.liveChannel = new LiveChannel(deps.live, deps.log.keys(sessionId).live, {
      onNotification: (n) => this.onLive(n),
      onResubscribed: () => this.cursor?.onLive({ kind: 'resync' }),
      isClosing: () => this.closing,
    });
    this.events = new RateLimiter(deps.eventsPerSecond, deps.eventsBurst);
    this.completion = new CompletionClose(socket, handshake.protocolVersion, ACK_FLUSH_LIMIT_MS);
    this.token = new TokenLifetime(
      (token) => deps.verifyToken(token, sessionId),
      consumerId,
      handshake.tokenExpiresAt,
      () => this.closeWith(TOKEN_EXPIRED),
    );
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
    await this.liveChannel.subscribe();
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
    // Checked first, so the child logger is only made when the line is written.
    if (this.deps.logger.isLevelEnabled('debug')) {
      this.logger.debug(
        {
          startOffset: decision.startOffset,
          head: info.head,
          resumed: typeof this.handshake.position === 'object',
        },
        'connection started',
      );
    }
    if (decision.reset) this.sendReset(decision.reset);
    this.countResume(decision.reset?.reason);
    this.observed.started(info.head, decision.startOffset - 1);
    // The connection is the cursor's CursorDeps itself: methods, not a closure per callback.
    const cursor = new DeliveryCursor(this, this.deps.window, {
      epoch: info.epoch,
      offset: decision.startOffset,
      head: info.head,
      ...(info.finalOffset === undefined ? {} : { finalOffset: info.finalOffset }),
    });
    this.cursor = cursor;
    gateClientEvents(this.socket, this.events, this.deps.metrics, (payload) => {
      if (!this.closed) this.ackIntake.take(payload, cursor);
    });
    this.socket.on('token', (payload, reply) => void this.token.refresh(payload, reply));
    const { log, submitInboxRun } = this.deps;
    const sends = { log, submitInboxRun, sessionId, consumerId, fault: this.fault.bind(this) };
    this.socket.on('send', (payload, reply) => void acceptSend(sends, payload, reply));
    cursor.start();
    if (this.notifiedDuringStart) cursor.onLive({ kind: 'resync' });
  }

  // CursorDeps: what the delivery cursor asks of its connection.

  async read(from: number, limit: number, maxBytes: number): Promise<ReadResult> {
    const { log, metrics, readSlot } = this.deps;
    const result = await readSlot(() => log.read(this.handshake.sessionId, { from, limit, maxBytes }));
    metrics.catchUpReads.inc();
    metrics.catchUpMessages.inc(result.entries.length);
    return result;
  }

  sendBatch(batch: BatchPayload): void {
    this.observed.onBatch(batch);
    this.socket.emit('batch', batch);
  }

  sendReset(reset: ResetPayload): void {
    this.ackIntake.noteReset(reset);
    this.deps.metrics.resets.inc({ reason: reset.reason });
    this.observed.onReset(reset.resumeFrom);
    this.logger.info({ reason: reset.reason, resumeFrom: reset.resumeFrom }, 'reset sent');
    this.socket.emit('reset', reset);
  }

  mayDeliver(): boolean {
    return !this.closing && this.lease.isValid();
  }

  onFatal(error: unknown): void {
    this.endFor(error);
  }

  /** Everything up to the final offset was sent: say so, let the last ack land, close cleanly. */
  onComplete(complete: CompletePayload): void {
    if (!this.stopDelivering()) return; // acks are still taken and stored
    this.completion.onAck(this.cursor?.position.acked ?? 0); // a client already at the end
    void this.completion.run(complete, () => this.acks.flush()).then(() => this.closeNow());
  }

  onWindowFull(): void {
    this.observed.onWindowFull();
    this.liveChannel.onWindowFull();
  }

  onWindowOpen(): void {
    this.observed.onWindowOpen();
    this.liveChannel.onWindowOpen();
  }

  // DrainableConnection: the steps edge-shutdown.ts sequences.

  stopDelivering(): boolean {
    if (this.closing) return false;
    this.closing = true;
    return true;
  }

  notify(event: 'drain', notice: NoticePayload): void {
    this.deps.metrics.drained.inc();
    this.socket.emit(event, notice);
  }

  flushAcks(): Promise<void> {
    return this.acks.flush();
  }

  closeNow(): void {
    this.cleanUp();
    closeTransport(this.socket);
  }

  /** A newer connection of the same consumer took over. */
  replace(): void {
    this.deps.metrics.replaced.inc();
    this.closeWith(REPLACED);
  }

  end(code: ErrorCode, message: string): void {
    this.closeWith(endNotice(code, message));
  }

  private endFor(error: unknown): void {
    countRedisError(this.deps.metrics, error);
    const outcome = failureOutcome(error, this.handshake.leaseGeneration);
    if (outcome.kind === 'await_end_notice') this.awaitEndNotice(outcome.message);
    else this.closeWith(outcome.close);
  }

  /**
   * The session was deleted, learnt from a failed call: the channel's `ended` notice may still
   * be behind notifications of messages the producer was told were stored. Keep forwarding what
   * comes until the notice (which then closes, see onLive), or until END_NOTICE_WAIT_MS.
   */
  private awaitEndNotice(message: string): void {
    if (this.closing || this.endNoticeTimer) return;
    const ended = endNotice(ErrorCode.SessionEnded, message);
    if (!this.liveChannel.subscribed) {
      this.closeWith(ended); // off the channel: no notice will come
      return;
    }
    this.endNoticeTimer = setTimeout(() => this.closeWith(ended), END_NOTICE_WAIT_MS);
    this.endNoticeTimer.unref();
  }

  private onLive(notification: LiveNotification): void {
    if (notification.kind === 'ended') {
      // Messages announced before the delete go out first, from the notifications themselves.
      this.cursor?.finish();
      this.closeWith(endNotice(ErrorCode.SessionEnded, `the session has ended (${notification.reason})`));
      return;
    }
    this.observed.onLive(notification);
    if (this.cursor) this.cursor.onLive(notification);
    else this.notifiedDuringStart = true;
  }

  /** A connection that presented a position resumed, or was reset (with the reason). */
  private countResume(resetReason: string | undefined): void {
    const { position } = this.handshake;
    if (position === undefined || position === 'oldest') return;
    this.deps.metrics.resumes.inc(
      resetReason === undefined
        ? { outcome: 'resumed', reason: '' }
        : { outcome: 'reset', reason: resetReason },
    );
  }

  private fault(code: ErrorCode, message: string): void {
    this.socket.emit('fault', { code, message });
  }

  private closeWith({ event, notice }: CloseNotice): void {
    if (!this.stopDelivering()) return;
    if (this.deps.logger.isLevelEnabled('debug')) {
      this.logger.debug({ event, code: notice.code }, 'connection closing');
    }
    this.cleanUp();
    this.socket.emit(event, notice);
    closeTransport(this.socket);
  }

  private cleanUp(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.cursor?.stop();
    this.lease.stop();
    this.token.stop();
    clearTimeout(this.endNoticeTimer);
    this.acks.finish(ACK_FINISH_LIMIT_MS);
    this.liveChannel.stop();
    // The consumer no longer counts as connected (a no-op if a newer connection took over).
    const { sessionId, consumerId, leaseGeneration } = this.handshake;
    this.deps.log.releaseLease(sessionId, consumerId, leaseGeneration).catch(() => undefined);
    this.deps.onClosed(this);
  }
}

/** Failures that came from Redis (unreachable, or too slow), counted by code. */
export function countRedisError(metrics: EdgeMetrics, error: unknown): void {
  if (!isHoldfastError(error)) return;
  if (error.code === ErrorCode.RedisUnavailable || error.code === ErrorCode.Timeout) {
    metrics.redisErrors.inc({ code: error.code });
  }
}
