/**
 * One client connection to one session, after its handshake was accepted and its consumer lease
 * claimed. It wires the concepts in their own modules (live channel, delivery cursor, ack intake
 * and writing, inbound sends, token lifetime, lease fencing, close protocol, drain) and holds the
 * one state they share: whether it is still delivering (`closing`) or cleaned up (`closed`).
 *
 * An edge's capacity is counted in what idle connections keep on the heap, so the connection is
 * itself each module's dependency object (methods, not a closure per callback), and what only an
 * active connection needs (ack writer and intake, rate limiter, completion) is made on first use.
 */
import {
  ErrorCode,
  type BatchPayload,
  type CompletePayload,
  type NoticePayload,
  type ResetPayload,
} from '@holdfast/protocol';
import { sessionLogger, type Logger } from '@holdfast/config';
import type { LiveNotification, ReadResult } from '@holdfast/session-log';
import { AckIntake } from './ack-intake.js';
import { AckWriter } from './ack-writer.js';
import { attachConnection, gateClientEvents } from './client-event-gate.js';
import {
  REPLACED,
  TOKEN_EXPIRED,
  closeTransport,
  endNotice,
  failureOutcome,
  leaseLossNotice,
  waitForEndNotice,
  type CloseNotice,
} from './close-protocol.js';
import { CompletionClose } from './completion.js';
import { ConnectionObserver } from './connection-observer.js';
import { DeliveryCursor, type CursorDeps } from './delivery-cursor.js';
import { firstReadFor, PrefetchedRead } from './first-read.js';
import { ACK_FINISH_LIMIT_MS, ACK_FLUSH_LIMIT_MS, type DrainableConnection } from './edge-shutdown.js';
import type { AcceptedHandshake, ConnectionDeps, EdgeSocket } from './connection-types.js';
import { acceptSend } from './inbound-send.js';
import type { LeaseKeeper, LeaseLoss } from './lease-fencing.js';
import { LiveChannel } from './live-channel.js';
import { countRedisError, countResume } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { decideStart, helloFor } from './start-point.js';

export type { AcceptedHandshake, ConnectionDeps, EdgeSocket } from './connection-types.js';

export class SessionConnection implements CursorDeps, DrainableConnection {
  private cursor: DeliveryCursor | undefined;
  /** Made on the first ack (see the class comment), as are ackIntake, events and completion. */
  private acks: AckWriter | undefined;
  private ackIntake: AckIntake | undefined;
  private readonly lease: LeaseKeeper;
  private readonly liveChannel: LiveChannel;
  /** When the current token expires (epoch ms), kept by the edge's expiry wheel. */
  tokenExpiresAt: number;
  /** No more deliveries (closing, or draining while acks are still taken). */
  private closing = false;
  /** Cleaned up: nothing more happens on this connection. */
  private closed = false;
  private notifiedDuringStart = false;
  /** The first read, made with the session's info (first-read.ts). */
  private prefetched: PrefetchedRead | undefined;
  private events: RateLimiter | undefined;
  private completion: CompletionClose | undefined;
  private endNoticeTimer: NodeJS.Timeout | undefined;
  /** Every line about this connection carries its session, consumer and connection id. */
  private sessionLog: Logger | undefined;
  /** Lag, stall and delivery latency, for the edge's metrics. */
  readonly observed: ConnectionObserver;

  /** Made on first use: a pino child per connection costs ~1 KB of heap; most never log a line. */
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
    this.lease = deps.leases.keep({ sessionId, consumerId, generation: leaseGeneration }, this);
    this.liveChannel = new LiveChannel(deps.live, deps.log.keys(sessionId).live, this);
    this.tokenExpiresAt = handshake.tokenExpiresAt;
    deps.tokens.track(this);
    attachConnection(socket, this);
  }

  get id(): string {
    return this.socket.id;
  }

  get sessionId(): string {
    return this.handshake.sessionId;
  }

  get consumerId(): string {
    return this.handshake.consumerId;
  }

  /** The epoch this connection last told its client: an inbound `ok` is only given in it. */
  get toldEpoch(): string | undefined {
    return this.cursor?.position.epoch;
  }

  /** Subscribe, decide the start point, say hello (and reset, if needed), start delivering. */
  async start(): Promise<void> {
    const { sessionId, consumerId } = this.handshake;
    await this.liveChannel.subscribe();
    // Read after subscribing: anything appended from here on is announced, and anything
    // before is in this read.
    const firstRead = firstReadFor(this.handshake.position, this.deps.window);
    const { info, read } = await this.deps.log.infoAndRead(sessionId, firstRead);
    if (this.closing) return;
    const decision = decideStart(info, this.handshake.position, info.acks[consumerId] ?? 0);
    this.prefetched = PrefetchedRead.keep(firstRead, read, decision);
    this.socket.emit('hello', helloFor(this.handshake, info, decision, this.deps));
    // Checked first, so the child logger is only made when the line is written.
    if (this.deps.logger.isLevelEnabled('debug')) {
      const resumed = typeof this.handshake.position === 'object';
      this.logger.debug(
        { startOffset: decision.startOffset, head: info.head, resumed },
        'connection started',
      );
    }
    if (decision.reset) this.sendReset(decision.reset);
    countResume(this.deps.metrics, this.handshake.position, decision.reset?.reason);
    this.observed.started(info.head, decision.startOffset - 1);
    // The connection is the cursor's CursorDeps itself: methods, not a closure per callback.
    const cursor = new DeliveryCursor(this, this.deps.window, {
      epoch: info.epoch,
      offset: decision.startOffset,
      head: info.head,
      ...(info.finalOffset === undefined ? {} : { finalOffset: info.finalOffset }),
    });
    this.cursor = cursor;
    gateClientEvents(this.socket, this, this.deps.metrics);
    cursor.start();
    if (this.notifiedDuringStart) cursor.onLive({ kind: 'resync' });
  }

  // CursorDeps: what the delivery cursor asks of its connection.

  async read(from: number, limit: number, maxBytes: number): Promise<ReadResult> {
    const { log, metrics, readSlot } = this.deps;
    const result =
      this.prefetched?.take(from, limit, maxBytes) ??
      (await readSlot(() => log.read(this.handshake.sessionId, { from, limit, maxBytes })));
    this.prefetched = undefined;
    metrics.catchUpReads.inc();
    metrics.catchUpMessages.inc(result.entries.length);
    return result;
  }

  sendBatch(batch: BatchPayload): void {
    this.observed.onBatch(batch);
    this.socket.emit('batch', batch);
  }

  sendReset(reset: ResetPayload): void {
    this.intake.noteReset(reset);
    this.deps.metrics.resets.inc({ reason: reset.reason });
    this.observed.onReset(reset.resumeFrom);
    this.logger.info({ reason: reset.reason, resumeFrom: reset.resumeFrom }, 'reset sent');
    this.socket.emit('reset', reset);
  }

  mayDeliver(): boolean {
    return !this.closing && this.lease.isValid();
  }

  /** A read (the cursor) or an ack write (the ack writer) failed for good. */
  onFatal(error: unknown): void {
    this.endFor(error);
  }

  /** Everything up to the final offset was sent: say so, let the last ack land, close cleanly. */
  onComplete(complete: CompletePayload): void {
    if (!this.stopDelivering()) return; // acks are still taken and stored
    const completion = new CompletionClose(this.socket, this.handshake.protocolVersion, ACK_FLUSH_LIMIT_MS);
    this.completion = completion;
    // Every ack stored so far is the cursor's acked offset (a client may be at the end already).
    completion.onAck(this.cursor?.position.acked ?? 0);
    void completion.run(complete, () => this.flushAcks()).then(() => this.closeNow());
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
    return this.acks?.flush() ?? Promise.resolve();
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

  // What the client events, acks, lease, live channel and token expiry ask of their connection.

  get limiter(): RateLimiter {
    return (this.events ??= new RateLimiter(this.deps.eventsPerSecond, this.deps.eventsBurst));
  }

  onAckEvent(payload: unknown): void {
    if (!this.closed && this.cursor) this.intake.take(payload, this.cursor);
  }

  onTokenEvent(payload: unknown, reply: unknown): void {
    void this.deps.tokens.refresh(this, payload, reply);
  }

  onSendEvent(payload: unknown, reply: unknown): void {
    void acceptSend(this.deps, this, payload, reply);
  }

  onDisconnect(): void {
    this.cleanUp();
  }

  storeAck(epoch: string, offset: number): void {
    (this.acks ??= new AckWriter(this)).submit(epoch, offset);
    this.observed.onAck(offset);
    this.completion?.onAck(offset);
  }

  async writeAck(epoch: string, offset: number): Promise<void> {
    const { sessionId, consumerId, leaseGeneration } = this.handshake;
    await this.deps.log.ack(sessionId, { epoch, offset, consumerId, leaseGeneration });
  }

  onLeaseConfirmed(): void {
    this.cursor?.resume();
  }

  onLeaseLost(why: LeaseLoss | 'session_gone'): void {
    if (why === 'session_gone') this.awaitEndNotice('the session has ended');
    else this.closeWith(leaseLossNotice(why));
  }

  onResubscribed(): void {
    this.cursor?.onLive({ kind: 'resync' });
  }

  isClosing(): boolean {
    return this.closing;
  }

  onTokenExpired(): void {
    this.closeWith(TOKEN_EXPIRED);
  }

  fault(code: ErrorCode, message: string): void {
    this.socket.emit('fault', { code, message });
  }

  private get intake(): AckIntake {
    return (this.ackIntake ??= new AckIntake(this));
  }

  private endFor(error: unknown): void {
    countRedisError(this.deps.metrics, error);
    const outcome = failureOutcome(error, this.handshake.leaseGeneration);
    if (outcome.kind === 'await_end_notice') this.awaitEndNotice(outcome.message);
    else this.closeWith(outcome.close);
  }

  /** The session was deleted, learnt from a failed call (see waitForEndNotice). */
  private awaitEndNotice(message: string): void {
    if (this.closing || this.endNoticeTimer) return;
    const subscribed = this.liveChannel.subscribed;
    this.endNoticeTimer = waitForEndNotice(subscribed, message, (notice) => this.closeWith(notice));
  }

  onNotification(notification: LiveNotification): void {
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

  private closeWith({ event, notice }: CloseNotice): void {
    if (!this.stopDelivering()) return;
    const debug = this.deps.logger.isLevelEnabled('debug'); // before making the child logger
    if (debug) this.logger.debug({ event, code: notice.code }, 'connection closing');
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
    this.deps.tokens.untrack(this);
    clearTimeout(this.endNoticeTimer);
    this.acks?.finish(ACK_FINISH_LIMIT_MS);
    this.liveChannel.stop();
    // The consumer no longer counts as connected (a no-op if a newer connection took over).
    const { sessionId, consumerId, leaseGeneration } = this.handshake;
    this.deps.log.releaseLease(sessionId, consumerId, leaseGeneration).catch(() => undefined);
    this.deps.perSession.release(sessionId);
    this.deps.onClosed(this);
  }
}
