import {
  ErrorCode,
  PROTOCOL_VERSION,
  isWorkerEnvelope,
  type BatchPayload,
  type CompletePayload,
  type HandshakeAuth,
  type HelloPayload,
  type LogPosition,
  type ResetPayload,
} from '@holdfast/protocol';
import { AckBatcher } from './ack-batcher.js';
import { ArrivalCursor, type ClientMessage } from './arrival-cursor.js';
import { ClientErrorCode, HoldfastClientError } from './client-error.js';
import { completeViolation } from './completion.js';
import { DeliveryQueue } from './delivery-queue.js';
import { EdgeConnection } from './edge-connection.js';
import { Emitter } from './emitter.js';
import type { ResolvedOptions } from './options.js';
import { Outbox, sessionClosedError, type SendOptions, type SendResult } from './outbox.js';
import { PositionSaver } from './position-saver.js';
import { isLogPosition } from './position-store.js';
import type { AttemptAbortedEvent, InboundErrorEvent, ReplyEvent } from './replies.js';
import { START_EPOCH, initialPosition, isStartPosition } from './start-position.js';
import { limitsFrom } from './send-limits.js';
import { tokenFailure } from './token-failures.js';
import { TokenKeeper } from './token-keeper.js';

/**
 * - `connecting`: no connection has been open yet (first attempt, or retrying it);
 * - `open`: connected, messages flow;
 * - `resuming`: the connection was lost; reconnecting and resuming from the position;
 * - `closed`: for good (`close()`, a code that says stop, or `session_completed` after the
 *   `complete` event). Nothing more happens.
 */
export type SessionState = 'connecting' | 'open' | 'resuming' | 'closed';

export interface StateChange {
  readonly state: SessionState;
  /**
   * Why: the code that ended the connection (`connection_lost`, `server_draining`,
   * `handler_failed`, `replaced`, `session_ended`, `token_invalid`, …), `closed_by_app` after
   * `close()`, `retries_exhausted` when the retry strategy gave up; undefined for `open`.
   */
  readonly reason: string | undefined;
  readonly error?: HoldfastClientError;
}

export interface SessionEvents<T> {
  /** A message, each offset once and in order. The next one waits until this returns/resolves. */
  message: (message: ClientMessage<T>) => void | Promise<void>;
  /** The app's view cannot continue: rebuild it; messages continue at `resumeFrom` in `newEpoch`. */
  reset: (reset: ResetPayload) => void | Promise<void>;
  /**
   * The session completed and the app has handled every message up to `finalOffset` (the
   * position is saved). The state then becomes `closed` with reason `session_completed`.
   */
  complete: (complete: CompletePayload) => void;
  state: (change: StateChange) => void;
  error: (error: HoldfastClientError) => void;
  /**
   * A message whose data is a worker `reply` envelope; emitted after the `message` listeners,
   * awaited like them (the offset is acknowledged once both returned).
   */
  reply: (reply: ReplyEvent) => void | Promise<void>;
  /** A worker `attempt_aborted` envelope: discard what that attempt (and earlier ones) published. */
  attempt_aborted: (aborted: AttemptAbortedEvent) => void | Promise<void>;
  /** A worker `error` envelope: the message was given up on, no (further) reply comes. */
  inbound_error: (error: InboundErrorEvent) => void | Promise<void>;
}

/** How long an edge may take to answer a `send` before it is sent again. */
const SEND_TIMEOUT_MS = 10_000;

type Delivery<T> =
  | { readonly kind: 'message'; readonly message: ClientMessage<T>; readonly endOfBatch: boolean }
  | { readonly kind: 'reset'; readonly reset: ResetPayload }
  | { readonly kind: 'complete'; readonly complete: CompletePayload };

type Timer = ReturnType<typeof setTimeout>;

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
  private generation = 0;
  private attempts = 0;
  /** Consecutive failures without progress: the retry strategy's `attempt`. */
  private failures = 0;
  /** `getToken()` failures in a row; `maxTokenFailures` of them end the session. */
  private tokenFailures = 0;
  /** A handler or the delivery contract failed and the app has not made progress since. */
  private stalled = false;
  private wasOpen = false;
  private retryTimer: Timer | undefined;
  /** A valid `complete` arrived: the edge's close that follows must not clear the queue. */
  private completing = false;
  private closing: Promise<void> | undefined;
  private readonly reported = new WeakSet<HoldfastClientError>();
  private readonly queue: DeliveryQueue<Delivery<T>>;
  private readonly acks: AckBatcher;
  private readonly saver: PositionSaver;
  private readonly tokens: TokenKeeper;
  private readonly outbox: Outbox;

  /** @internal Use `connect()`. */
  constructor(private readonly options: ResolvedOptions) {
    super();
    this.tokens = new TokenKeeper(options.token, options.getToken, options.tokenRefreshMarginMs, {
      error: (error) => this.report(error),
      refreshFailed: (error) => {
        this.report(error);
        this.dropConnection();
        this.handleFailure(error);
      },
    });
    this.queue = new DeliveryQueue((item) => this.deliver(item));
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
    await this.queue.idle();
    if (this.handled && !isStartPosition(this.handled)) this.saver.save(this.handled);
    await Promise.all([this.saver.flush(), this.outbox.flush()]);
  }

  private async start(): Promise<void> {
    const outboxLoaded = this.outbox.load();
    let stored: LogPosition | undefined;
    try {
      const loaded: unknown = await this.options.store.load(this.options.sessionId);
      if (loaded !== undefined && loaded !== null && !isLogPosition(loaded)) {
        throw new TypeError(`the store returned ${JSON.stringify(loaded)}, not { epoch, offset }`);
      }
      stored = loaded ?? undefined;
    } catch (error) {
      this.report(storeError('load', error));
    }
    this.handled = initialPosition(this.options.from, stored);
    await outboxLoaded;
    await this.openConnection();
  }

  private async openConnection(): Promise<void> {
    this.retryTimer = undefined;
    if (this.isClosed()) return;
    let token: string;
    try {
      token = await this.tokens.forConnecting();
      this.tokenFailures = 0;
    } catch (error) {
      const failure = tokenFailure(error, ++this.tokenFailures, this.options.maxTokenFailures);
      this.report(failure);
      this.handleFailure(failure);
      return;
    }
    if (this.isClosed()) return;

    const { urls, sessionId } = this.options;
    const url = urls[this.attempts++ % urls.length] as string;
    const position = this.handled;
    const auth: HandshakeAuth = {
      v: PROTOCOL_VERSION,
      sessionId,
      token,
      ...(position ? { position: { epoch: position.epoch, offset: position.offset } } : {}),
    };
    const generation = ++this.generation;
    const live = (): boolean => generation === this.generation && this.currentState !== 'closed';
    const cursor = new ArrivalCursor();
    this.cursor = cursor;
    try {
      this.connection = this.openEdgeConnection(url, auth, cursor, live);
    } catch (error) {
      // socket.io-client refused the URL or options: try the next URL after the usual wait.
      const failure = new HoldfastClientError(
        ClientErrorCode.ConnectFailed,
        `could not connect to ${url}: ${describe(error)}`,
        { cause: error },
      );
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
    return new EdgeConnection(url, auth, this.options.socketOptions, {
      hello: (hello) => live() && this.onHello(cursor, hello, live),
      batch: (batch) => live() && this.onBatch(cursor, batch),
      reset: (reset) => live() && this.onReset(cursor, reset),
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
    if (!this.stalled) this.failures = 0;
    this.wasOpen = true;
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

  private onBatch(cursor: ArrivalCursor, batch: BatchPayload): void {
    const arrival = cursor.accept<T>(batch);
    if (!arrival.ok) return this.protocolViolation(arrival.violation);
    // Already handled: acknowledge them too, or a small flow window could wait on them forever.
    if (arrival.duplicates > 0) this.acks.noteHandled(arrival.duplicates);
    const last = arrival.messages.length - 1;
    this.queue.push(
      arrival.messages.map((message, i) => ({ kind: 'message', message, endOfBatch: i === last }) as const),
    );
  }

  private onReset(cursor: ArrivalCursor, reset: ResetPayload): void {
    cursor.onReset(reset);
    // The start sentinel is not an epoch the app ever had: it had no view at all.
    const forApp = reset.oldEpoch === START_EPOCH ? { ...reset, oldEpoch: null } : reset;
    this.queue.push([{ kind: 'reset', reset: forApp }]);
  }

  /** Checked against what arrived, then queued: it takes effect once the app handled everything before it. */
  private onComplete(cursor: ArrivalCursor, complete: CompletePayload): void {
    const violation = completeViolation(complete, cursor.arrived, this.handled);
    if (violation) return this.protocolViolation(violation);
    this.completing = true;
    this.queue.push([
      { kind: 'complete', complete: { epoch: complete.epoch, finalOffset: complete.finalOffset } },
    ]);
  }

  /** Every message up to the final offset is handled: last ack, position saved, then the end. */
  private async completed(complete: CompletePayload): Promise<void> {
    this.acks.flushNow();
    if (this.handled && !isStartPosition(this.handled)) this.saver.save(this.handled);
    await this.saver.flush();
    if (this.isClosed()) return;
    this.emit('complete', complete);
    const reason = `the session completed at offset ${complete.finalOffset}; it takes no more messages`;
    this.finish(ErrorCode.SessionCompleted, new HoldfastClientError(ErrorCode.SessionCompleted, reason));
  }

  /** Hands one item to the app; runs strictly one at a time (DeliveryQueue). */
  private async deliver(item: Delivery<T>): Promise<void> {
    if (item.kind === 'complete') return this.completed(item.complete);
    if (item.kind === 'reset') {
      try {
        await this.emitInOrder('reset', item.reset);
      } catch (error) {
        return this.handlerFailed(error, `a 'reset' listener threw`);
      }
      return this.advance({ epoch: item.reset.newEpoch, offset: item.reset.resumeFrom - 1 }, true);
    }
    const { message } = item;
    const handled = this.handled;
    if (handled && handled.epoch === message.epoch) {
      if (message.offset <= handled.offset) return this.acks.noteHandled(); // handled before
      if (message.offset !== handled.offset + 1) {
        return this.protocolViolation(`offset ${message.offset} arrived after ${handled.offset}`);
      }
    } else if (handled) {
      return this.protocolViolation(`a message of epoch ${message.epoch} arrived without a reset`);
    }
    try {
      await this.emitInOrder('message', message);
      await this.emitEnvelope(message);
    } catch (error) {
      return this.handlerFailed(error, `a 'message' listener threw at offset ${message.offset}`);
    }
    this.advance({ epoch: message.epoch, offset: message.offset }, item.endOfBatch);
  }

  /** A worker envelope also goes to its own listeners (after `message`). */
  private async emitEnvelope({ epoch, offset, data }: ClientMessage<T>): Promise<void> {
    if (!isWorkerEnvelope(data)) return;
    if (data.$holdfast === 'reply') {
      const { messageId, attempt } = data;
      await this.emitInOrder('reply', { messageId, attempt, data: data.data, epoch, offset });
    } else if (data.$holdfast === 'attempt_aborted') {
      await this.emitInOrder('attempt_aborted', {
        messageId: data.messageId,
        attempt: data.attempt,
        epoch,
        offset,
      });
    } else {
      const { messageId, code, message, attempts } = data;
      await this.emitInOrder('inbound_error', { messageId, code, message, attempts, epoch, offset });
    }
  }

  private advance(position: LogPosition, save: boolean): void {
    this.handled = position;
    this.stalled = false;
    this.failures = 0;
    this.acks.noteHandled();
    if (save) this.saver.save(position);
  }

  private sendAck(): void {
    const ack = this.cursor?.ackFor(this.handled);
    if (ack && this.connection?.ack(ack)) this.cursor?.markAcked(ack.offset);
  }

  /** The message is not acknowledged: reconnect from the handled position, so it comes again. */
  private handlerFailed(error: unknown, what: string): void {
    if (this.isClosed()) return;
    const message = `${what}: ${describe(error)}; it is delivered again`;
    this.failBack(new HoldfastClientError(ClientErrorCode.HandlerFailed, message, { cause: error }));
  }

  private protocolViolation(violation: string): void {
    if (this.isClosed()) return;
    this.failBack(
      new HoldfastClientError(
        ClientErrorCode.ProtocolViolation,
        `the edge broke the delivery contract (${violation}); resuming from the handled position`,
      ),
    );
  }

  private failBack(error: HoldfastClientError): void {
    this.completing = false; // the next connection resumes, gets the rest, and `complete` again
    this.report(error);
    this.stalled = true;
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
    this.failures++;
    let delay: number | null;
    try {
      delay = this.options.retryStrategy(this.failures, cause);
    } catch (error) {
      this.report(
        new HoldfastClientError(ErrorCode.InvalidOptions, `retryStrategy threw: ${describe(error)}`),
      );
      delay = null;
    }
    if (delay === null) return this.finish('retries_exhausted', cause);
    const wait = Math.max(Number.isFinite(delay) ? delay : 0, cause.retryAfterMs ?? 0, 0);
    // Each token failure is told, though the state stays the same: no silent `connecting`.
    const tell = cause.code === ClientErrorCode.TokenUnavailable;
    this.setState(this.wasOpen ? 'resuming' : 'connecting', cause.code, cause, tell);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.openConnection(), wait);
  }

  private dropConnection(): void {
    this.generation++;
    this.connection?.close();
    this.connection = undefined;
    this.cursor = undefined;
    this.tokens.unwatch();
    this.outbox.detach();
    this.queue.clear(); // not yet handed to the app: the next connection delivers them again
  }

  private finish(reason: string, error?: HoldfastClientError): void {
    if (this.isClosed()) return;
    clearTimeout(this.retryTimer);
    this.dropConnection();
    this.acks.stop();
    // An ended session accepts nothing any more; otherwise the store keeps the outbox.
    const ended =
      reason === ErrorCode.SessionEnded ||
      reason === ErrorCode.SessionNotFound ||
      reason === ErrorCode.SessionCompleted;
    this.outbox.stop(
      ended && error ? error : sessionClosedError(reason, this.options.store.saveOutbox !== undefined),
      ended,
    );
    const normalEnd = [ErrorCode.Replaced, ErrorCode.SessionEnded, ErrorCode.SessionCompleted] as string[];
    if (error && !normalEnd.includes(reason)) this.report(error);
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

function storeError(operation: 'load' | 'save', error: unknown): HoldfastClientError {
  return new HoldfastClientError(
    ClientErrorCode.StoreFailed,
    `the position store failed to ${operation}: ${describe(error)}`,
    { cause: error },
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
