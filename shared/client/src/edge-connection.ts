import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  ErrorCode,
  type BatchPayload,
  type ClientToServerEvents,
  type CompletePayload,
  type HandshakeAuth,
  type HelloPayload,
  type LogPosition,
  type NoticePayload,
  type ResetPayload,
  type SendPayload,
  type SendReply,
  type ServerToClientEvents,
  type TokenRefreshReply,
} from '@holdfast/protocol';
import { ClientErrorCode, HoldfastClientError } from './client-error.js';
import { faultKeepsConnection } from './code-table.js';

export type SocketIoOptions = Partial<ManagerOptions & SocketOptions>;

export interface ConnectionEvents {
  hello(hello: HelloPayload): void;
  batch(batch: BatchPayload): void;
  reset(reset: ResetPayload): void;
  /** The session completed; the edge closes the connection next (and `end` follows). */
  complete(payload: CompletePayload): void;
  /** The edge is about to close this connection after storing acks: send the latest ack now. */
  drain(): void;
  /** The edge refused or dropped an event (`rate_limited`); the connection stays open. */
  fault(error: HoldfastClientError): void;
  /** The attempt or the connection is over, and why. Called once, never after `close()`. */
  end(cause: HoldfastClientError): void;
}

/**
 * One connection attempt to one edge: a Socket.IO socket of its own (no reconnection of its
 * own), and the protocol's events turned into one `end` cause that carries the code table's
 * action. `replaced` and `session_ended` end it at once, even if the transport breaks before the
 * edge's disconnect packet; `drain` and closing `fault`s say why the disconnect that follows
 * happens; anything else that ends an open connection is a lost connection.
 */
export class EdgeConnection {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  /** The notice that explains the disconnect the edge sends next. */
  private closingNotice: HoldfastClientError | undefined;
  private ended = false;
  /** Until `hello` arrives: an attempt that never completes its handshake is given up. */
  private helloTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    url: string,
    auth: HandshakeAuth,
    socketOptions: SocketIoOptions,
    helloTimeoutMs: number,
    events: ConnectionEvents,
  ) {
    this.socket = io(url, {
      ...socketOptions,
      // Not overridable: the session runs the reconnection loop and only WebSocket is offered.
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      autoConnect: true,
      auth: { ...auth },
    });
    const end = (cause: HoldfastClientError): void => {
      if (this.ended) return;
      this.ended = true;
      clearTimeout(this.helloTimer);
      this.socket.disconnect();
      events.end(cause);
    };
    this.helloTimer = setTimeout(() => {
      const message = `no hello from ${url} within ${helloTimeoutMs} ms of connecting; trying again`;
      end(new HoldfastClientError(ErrorCode.HandshakeTimeout, message));
    }, helloTimeoutMs);
    this.socket.on('hello', (hello) => {
      clearTimeout(this.helloTimer);
      events.hello(hello);
    });
    this.socket.on('batch', (batch) => events.batch(batch));
    this.socket.on('reset', (reset) => events.reset(reset));
    this.socket.on('complete', (payload) => events.complete(payload));
    this.socket.on('replaced', (notice) => end(noticeError(notice, ErrorCode.Replaced)));
    this.socket.on('session_ended', (notice) => end(noticeError(notice, ErrorCode.SessionEnded)));
    this.socket.on('drain', (notice) => {
      this.closingNotice = noticeError(notice, ErrorCode.ServerDraining);
      events.drain();
    });
    this.socket.on('fault', (notice) => {
      const error = noticeError(notice, ErrorCode.RedisUnavailable);
      if (faultKeepsConnection(error.code)) events.fault(error);
      else this.closingNotice = error;
    });
    this.socket.on('connect_error', (error) => end(connectErrorCause(error)));
    // socket.io-client's Manager listens only for the engine's 'open' and 'error' while it opens:
    // a WebSocket closed after its upgrade but before Engine.IO's open packet (a reset, an edge
    // dying) would go unnoticed until the connect timeout (20 s by default). Once the engine is
    // open, a close arrives as 'disconnect' below. A 'forced close' comes from this side (a
    // refused handshake destroys the socket just before 'connect_error' tells why).
    this.socket.io.engine.on('close', (reason) => {
      if (reason === 'forced close' || this.socket.connected) return;
      end(new HoldfastClientError(ClientErrorCode.ConnectFailed, `could not connect: ${reason}`));
    });
    this.socket.on('disconnect', (reason) => {
      end(
        this.closingNotice ??
          new HoldfastClientError(ClientErrorCode.ConnectionLost, `the connection was lost (${reason})`),
      );
    });
  }

  /** The Socket.IO id of this connection once connected. */
  get id(): string | undefined {
    return this.socket.id;
  }

  ack(position: LogPosition): boolean {
    if (this.ended || !this.socket.connected) return false;
    this.socket.emit('ack', { epoch: position.epoch, offset: position.offset });
    return true;
  }

  /**
   * Emits a `send`; `answer` gets the edge's reply, or a `timeout` failure when none came within
   * `timeoutMs` (also when the connection ends first). False, and nothing sent, if not connected.
   */
  send(payload: SendPayload, timeoutMs: number, answer: (reply: SendReply) => void): boolean {
    if (this.ended || !this.socket.connected) return false;
    this.socket.timeout(timeoutMs).emit('send', payload, (error: Error | null, reply: SendReply) => {
      answer(
        error
          ? { ok: false, code: ErrorCode.Timeout, message: `no answer to send: ${error.message}` }
          : reply,
      );
    });
    return true;
  }

  /** Sends a fresh token; rejects if no answer comes within `timeoutMs` or the connection ends. */
  refreshToken(token: string, timeoutMs: number): Promise<TokenRefreshReply> {
    return new Promise((resolve, reject) => {
      this.socket
        .timeout(timeoutMs)
        .emit('token', { token }, (error: Error | null, reply: TokenRefreshReply) => {
          if (error) reject(error);
          else resolve(reply);
        });
    });
  }

  /** Closes from this side (the edge sees a clean disconnect); `end` is not called. */
  close(): void {
    this.ended = true;
    clearTimeout(this.helloTimer);
    this.socket.disconnect();
  }
}

function noticeError(notice: NoticePayload | undefined, fallback: ErrorCode): HoldfastClientError {
  const code = typeof notice?.code === 'string' ? notice.code : fallback;
  const retryAfterMs = typeof notice?.retryAfterMs === 'number' ? notice.retryAfterMs : undefined;
  return new HoldfastClientError(code, notice?.message ?? code, { retryAfterMs });
}

/**
 * A refused handshake carries `{ code, message, retryAfterMs? }`. Without it the attempt failed
 * below Socket.IO: in Node an HTTP 403 on the upgrade is visible and is the edge's Origin check
 * (the only 403 it sends); browsers hide the status, so there it is an ordinary failed attempt.
 */
function connectErrorCause(error: Error & { data?: unknown; description?: unknown }): HoldfastClientError {
  const data = error.data as Partial<NoticePayload> | undefined;
  if (typeof data === 'object' && data !== null && typeof data.code === 'string') {
    return new HoldfastClientError(data.code, data.message ?? data.code, {
      retryAfterMs: typeof data.retryAfterMs === 'number' ? data.retryAfterMs : undefined,
      cause: error,
    });
  }
  const description = (error.description as { message?: unknown } | undefined)?.message;
  if (typeof description === 'string' && /\b403\b/.test(description)) {
    return new HoldfastClientError(
      ErrorCode.OriginNotAllowed,
      `the edge refused the WebSocket upgrade (${description}): this Origin is not allowed`,
      { cause: error },
    );
  }
  return new HoldfastClientError(ClientErrorCode.ConnectFailed, `could not connect: ${error.message}`, {
    cause: error,
  });
}
