import {
  ErrorCode,
  type CompletePayload,
  type HandshakeAuth,
  type HelloPayload,
  type LogPosition,
} from '@holdfast/protocol';
import { AckBatcher } from './ack-batcher.js';
import { AppDelivery } from './app-delivery.js';
import { ArrivalCursor } from './arrival-cursor.js';
import {
  ClientErrorCode,
  HoldfastClientError,
  connectFailed,
  listenerFailed,
  protocolViolation,
  retryStrategyThrew,
} from './client-error.js';
import { endsSession, isNormalEnd } from './code-table.js';
import { ConnectionAttempts } from './connection-attempts.js';
import { EdgeConnection } from './edge-connection.js';
import { Emitter } from './emitter.js';
import type { ResolvedOptions } from './options.js';
import { Outbox, sessionClosedError, type SendOptions, type SendResult } from './outbox.js';
import { PositionSaver } from './position-saver.js';
import { loadStoredPosition, storeError } from './position-store.js';
import { ReconnectSchedule } from './reconnect-schedule.js';
import type { SessionEvents, SessionState } from './session-events.js';
import { handshakeAuth, initialPosition, isStartPosition } from './start-position.js';
import { limitsFrom } from './send-limits.js';
import { TokenKeeper } from './token-keeper.js';

export type { SessionEvents, SessionState, StateChange } from './session-events.js';

/** How long an edge may take to answer a `send` before it is sent again. */
const SEND_TIMEOUT_MS = 10_000;

/**
 * A durable session as the app sees it: messages exactly once and in order, across reconnects,
 * edge failures and restarts. Owns the reconnection loop (one `EdgeConnection` at a time), the
 * handled position, acks and token refresh. Create it with `connect()`.
 */
export class HoldfastSession<T = unknown> extends Emitter<SessionEvents<T>> {
  private currentState: SessionState = 'connecting';
  /** The position the app has handled (or was reset to); sent as `position` when connecting. */
  private handled: LogPosition | undefined;
  private connection: EdgeConnection | undefined;
  private cursor: ArrivalCursor | undefined;
  /** Bumped whenever a connection is dropped: callbacks of older connections are ignored. */
  private connectionSerial = 0;
  private readonly schedule: ReconnectSchedule;
  /** A valid `complete` arrived: the edge's close that follows must not clear the queue. */
  private completing = false;
  private closing: Promise<void> | undefined;
  private readonly reported = new WeakSet<HoldfastClientError>();
  private readonly delivery: AppDelivery<T>;
  private readonly acks: AckBatcher;
  private readonly saver: PositionSaver;
  private readonly tokens: TokenKeeper;
  private readonly outbox: Outbox;
  private readonly attempts = new ConnectionAttempts();

  /** @internal Use `connect()`. */
  constructor(private readonly options: ResolvedOptions) {
    super();
    this.schedule = new ReconnectSchedule(options.urls, options.retryStrategy, (error) =>
      this.report(retryStrategyThrew(error)),
    );
    const { token, getToken, tokenRefreshMarginMs, maxTokenFailures } = options;
    this.tokens = new TokenKeeper(token, getToken, tokenRefreshMarginMs, maxTokenFailures, {
      error: (error) => this.report(error),
      refreshFailed: (error) => {
        this.report(error);
        this.dropConnection();
        this.handleFailure(error);
      },
    });
    this.delivery = new AppDelivery<T>({
      handled: () => this.handled,
      emitInOrder: (event, arg) => this.emitInOrder(event, ...([arg] as never)),
      progressed: (position, save) => this.advance(position, save),
      handledBefore: (messages) => this.acks.noteHandled(messages),
      completed: (complete) => this.completed(complete),
      violation: (description) => this.failBack(protocolViolation(description)),
      listenerFailed: (error, what) => this.failBack(listenerFailed(error, what)),
    });
    this.acks = new AckBatcher(() => this.sendAck(), options.ackEveryMessages, options.ackEveryMs);
    this.saver = new PositionSaver(options.store, options.sessionId, (error) =>
      this.report(storeError('save', error)),
    );
    this.outbox = new Outbox(
      options.store,
      options.sessionId,
      (operation, error) => this.report(storeError(operation, error)),
      (_id, error) => this.report(error), // a restored entry that can never be sent: dropped
    );
    void this.start();
  }

  get state(): SessionState {
    return this.currentState;
  }

  /**
   * The `{ epoch, offset }` of the last message the app has handled (after a reset: the offset
   * before `resumeFrom` in the new epoch); undefined before the first message.
   */
  get position(): LogPosition | undefined {
    return isStartPosition(this.handled) ? undefined : this.handled;
  }

  /** The Socket.IO id of the open connection (for logs); undefined unless `open`. */
  get connectionId(): string | undefined {
    return this.currentState === 'open' ? this.connection?.id : undefined;
  }

  /** Sends not yet accepted by an edge (the outbox), restored ones included. */
  get pendingSends(): number {
    return this.outbox.size;
  }

  /**
   * Sends `data` to the session's application (a worker handles it). Resolves once an edge
   * accepted it (stored in Redis): `{ id, seq, duplicate }`. Until then it waits in the outbox,
   * sent in order, one at a time, and again after any reconnect. Rejects with a
   * `HoldfastClientError` when it can never be accepted (`invalid_message_id`,
   * `payload_too_large`, `invalid_payload`, `session_ended`, …) or when the session closes first
   * (`session_closed`; the message stays in the store's outbox).
   */
  send(data: unknown, options: SendOptions = {}): Promise<SendResult> {
    return this.outbox.send(data, options);
  }

  /**
   * Stops for good: sends the last ack, closes the connection, and resolves once the handler in
   * progress (if any) has returned and the position is saved.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (this.currentState !== 'closed') {
      this.acks.flushNow(); // goes out before the disconnect packet, on the same transport
      this.finish('closed_by_app');
    }
    await this.delivery.idle();
    await Promise.all([this.saveHandled(), this.outbox.flush()]);
  }

  private saveHandled(): Promise<void> {
    if (this.handled && !isStartPosition(this.handled)) this.saver.save(this.handled);
    return this.saver.flush();
  }

  private async start(): Promise<void> {
    const outboxLoaded = this.outbox.load();
    const { store, sessionId } = this.options;
    const stored = await loadStoredPosition(store, sessionId, (error) => this.report(error));
    this.handled = initialPosition(this.options.from, stored);
    await outboxLoaded;
    await this.openConnection();
  }

  private async openConnection(): Promise<void> {
    if (this.isClosed()) return;
    let token: string;
    try {
      token = await this.tokens.forConnecting();
    } catch (error) {
      const failure = error as HoldfastClientError; // always one: see forConnecting()
      this.report(failure);
      this.handleFailure(failure);
      return;
    }
    if (this.isClosed()) return;
    const url = this.schedule.nextUrl();
    const auth = handshakeAuth(this.options.sessionId, token, this.handled, this.attempts.next());
    const serial = ++this.connectionSerial;
    const live = (): boolean => serial === this.connectionSerial && this.currentState !== 'closed';
    const cursor = new ArrivalCursor();
    this.cursor = cursor;
    try {
      this.connection = this.openEdgeConnection(url, auth, cursor, live);
    } catch (error) {
      // socket.io-client refused the URL or options: try the next URL after the usual wait.
      const failure = connectFailed(url, error);
      this.report(failure);
      this.dropConnection();
      this.handleFailure(failure);
    }
  }

  private openEdgeConnection(
    url: string,
    auth: HandshakeAuth,
    cursor: ArrivalCursor,
    live: () => boolean,
  ): EdgeConnection {
    return new EdgeConnection(url, auth, this.options.socketOptions, this.options.helloTimeoutMs, {
      hello: (hello) => live() && this.onHello(cursor, hello, live),
      batch: (batch) => {
        const violation = live() && this.delivery.acceptBatch(cursor, batch);
        if (violation) this.failBack(protocolViolation(violation));
      },
      reset: (reset) => live() && this.delivery.acceptReset(cursor, reset),
      complete: (complete) => live() && this.onComplete(cursor, complete),
      drain: () => live() && this.acks.flushNow(),
      fault: (error) => live() && this.onFault(cursor, error),
      end: (cause) => {
        if (!live() || this.completing) return;
        this.dropConnection();
        this.handleFailure(cause);
      },
    });
  }

  private onHello(cursor: ArrivalCursor, hello: HelloPayload, live: () => boolean): void {
    cursor.onHello(hello, this.handled);
    this.schedule.opened();
    this.acks.setWindow(hello.window.messages);
    this.outbox.setLimits(limitsFrom(hello.limits));
    const connection = this.connection;
    this.tokens.watch(hello.tokenExpiresAt, (token, timeoutMs) =>
      connection ? connection.refreshToken(token, timeoutMs) : Promise.reject(new Error('no connection')),
    );
    this.setState('open', undefined);
    this.outbox.attach((payload, answer) => {
      if (live()) connection?.send(payload, SEND_TIMEOUT_MS, answer);
    });
  }

  /**
   * A fault that keeps the connection. `rate_limited`: the edge dropped one of our events; if it
   * was an ack, the window would never reopen, so wait as asked and send the latest ack again
   * (a dropped token refresh times out and reconnects). Other faults are reported.
   */
  private onFault(cursor: ArrivalCursor, error: HoldfastClientError): void {
    if (error.code !== ErrorCode.RateLimited) return this.report(error);
    this.outbox.rateLimited(error.retryAfterMs ?? this.options.ackEveryMs);
    cursor.unconfirmAck();
    this.acks.holdFor(error.retryAfterMs ?? this.options.ackEveryMs);
  }

  private onComplete(cursor: ArrivalCursor, complete: CompletePayload): void {
    const violation = this.delivery.acceptComplete(cursor, complete);
    if (violation) return this.failBack(protocolViolation(violation));
    this.completing = true;
  }

  /** Every message up to the final offset is handled: last ack, position saved, then the end. */
  private async completed(complete: CompletePayload): Promise<void> {
    this.acks.flushNow();
    await this.saveHandled();
    if (this.isClosed()) return;
    this.emit('complete', complete);
    const reason = `the session completed at offset ${complete.finalOffset}; it takes no more messages`;
    this.finish(ErrorCode.SessionCompleted, new HoldfastClientError(ErrorCode.SessionCompleted, reason));
  }

  private advance(position: LogPosition, save: boolean): void {
    this.handled = position;
    this.schedule.progressed();
    this.acks.noteHandled();
    if (save) this.saver.save(position);
  }

  private sendAck(): void {
    const ack = this.cursor?.ackFor(this.handled);
    if (ack && this.connection?.ack(ack)) this.cursor?.markAcked(ack.offset);
  }

  /**
   * A listener failed or the edge broke the contract: the item is not acknowledged; reconnect
   * from the handled position, so it comes again.
   */
  private failBack(error: HoldfastClientError): void {
    if (this.isClosed()) return;
    this.completing = false; // the next connection resumes, gets the rest, and `complete` again
    this.report(error);
    this.schedule.stall();
    this.dropConnection();
    this.handleFailure(error);
  }

  /** Applies the code table: stop, or reconnect (with a fresh token) after the retry strategy's wait. */
  private handleFailure(cause: HoldfastClientError): void {
    if (this.isClosed()) return;
    if (cause.action === 'stop') return this.finish(cause.code, cause);
    if (cause.action === 'refresh_token') {
      if (!this.tokens.canRefresh) return this.finish(cause.code, cause);
      this.tokens.markStale();
    }
    if (!this.schedule.retry(cause, () => void this.openConnection())) {
      return this.finish('retries_exhausted', cause);
    }
    // Each token failure is told, though the state stays the same: no silent `connecting`.
    const tell = cause.code === ClientErrorCode.TokenUnavailable;
    this.setState(this.schedule.waitingState, cause.code, cause, tell);
  }

  private dropConnection(): void {
    this.connectionSerial++;
    this.connection?.close();
    this.connection = undefined;
    this.cursor = undefined;
    this.tokens.unwatch();
    this.outbox.detach();
    this.delivery.clear(); // not yet handed to the app: the next connection delivers them again
  }

  private finish(reason: string, error?: HoldfastClientError): void {
    if (this.isClosed()) return;
    this.schedule.cancel();
    this.dropConnection();
    this.acks.stop();
    // An ended session accepts nothing any more; otherwise the store keeps the outbox.
    const ended = endsSession(reason);
    this.outbox.stop(
      ended && error ? error : sessionClosedError(reason, this.options.store.saveOutbox !== undefined),
      ended,
    );
    if (error && !isNormalEnd(reason)) this.report(error);
    this.setState('closed', reason, error);
  }

  /** A method, not a comparison, so TypeScript does not narrow it away across awaits. */
  private isClosed(): boolean {
    return this.currentState === 'closed';
  }

  private setState(
    state: SessionState,
    reason: string | undefined,
    error?: HoldfastClientError,
    evenIfSame = false,
  ): void {
    if (state === this.currentState && !evenIfSame) return;
    this.currentState = state;
    this.emit('state', error ? { state, reason, error } : { state, reason });
  }

  /** Emits 'error' once per error. */
  private report(error: HoldfastClientError): void {
    if (this.reported.has(error)) return;
    this.reported.add(error);
    this.emit('error', error);
  }
}
