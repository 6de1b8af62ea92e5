import {
  ErrorCode,
  SESSION_ID_MAX_LENGTH,
  integerOptionProblem,
  isOffset,
  isSessionId,
} from '@holdfast/protocol';
import { HoldfastClientError } from './client-error.js';
import type { SocketIoOptions } from './edge-connection.js';
import { memoryStore, type PositionStore } from './position-store.js';
import { defaultRetryStrategy, type RetryStrategy } from './retry-strategy.js';
import { DEFAULT_MAX_TOKEN_FAILURES } from './token-failures.js';

export interface ConnectOptions {
  /** The session to follow (1–64 characters of `A-Z a-z 0-9 _ -`). */
  sessionId: string;
  /** A session token. Give `token`, `getToken`, or both (`token` is then used first). */
  token?: string;
  /**
   * Returns a fresh session token. Called for the first connection when no `token` is given,
   * after the edge answers `token_expired` or `token_not_yet_valid`, before reconnecting with
   * a token that expires within `tokenRefreshMarginMs`, and to refresh a live connection's token.
   */
  getToken?: () => Promise<string> | string;
  /**
   * `getToken()` failures in a row after which the session closes with `token_unavailable`
   * (each failure emits `error` and `state`; between them the retry strategy's wait). A
   * `getToken` that throws an error whose `code` is a stop code (`session_not_found`,
   * `session_ended`, `session_completed`, …) closes the session at once. `Infinity`: never give up.
   * @default 8
   */
  maxTokenFailures?: number;
  /**
   * Where the handled position is kept across restarts.
   * @default memoryStore()
   */
  store?: PositionStore;
  /**
   * Where the first connection starts; later connections always resume from the handled position.
   * - `'start'`: rebuild from the oldest retained message, then continue live. The app first gets
   *   a `reset` with `oldEpoch: null` (see docs/client.md).
   * - a number N: resume after offset N of the epoch in `store` (N = 0: from offset 1); without a
   *   stored epoch, as `'start'`.
   * - unset: resume after the stored position; without one the edge starts right after this
   *   consumer's acknowledged offset (the oldest retained message for a new consumer).
   * @default undefined
   */
  from?: 'start' | number;
  /**
   * Milliseconds to wait before reconnection attempt n, or `null` to stop.
   * @default exponential backoff with full jitter, base 250 ms, cap 30 s
   */
  retryStrategy?: RetryStrategy;
  /**
   * Acknowledge after this many handled messages (and at least every half flow window).
   * @default 50
   */
  ackEveryMessages?: number;
  /**
   * Acknowledge at most this long after a message was handled.
   * @default 100
   */
  ackEveryMs?: number;
  /**
   * With `getToken`, refresh a live connection's token this long before it expires (but not
   * before half of its remaining lifetime has passed), without reconnecting.
   * @default 60_000
   */
  tokenRefreshMarginMs?: number;
  /**
   * Give up on a connection attempt that has not received the edge's `hello` this long after it
   * began, and try again (`handshake_timeout`). socket.io-client's own `timeout` covers only the
   * transport's open; an edge that accepts the socket and then stalls (a dead link to Redis, an
   * overloaded host) would otherwise hold the client until the edge's heartbeat gives up. Longer
   * than the edge's own handshake deadline (10 s by default), so the edge normally says why first.
   * @default 20_000
   */
  helloTimeoutMs?: number;
  /**
   * Passed to socket.io-client (e.g. `path`, `extraHeaders` in Node, `timeout`). `transports`,
   * `reconnection`, `forceNew`, `autoConnect` and `auth` are set by the client.
   * @default {}
   */
  socketOptions?: SocketIoOptions;
}

export interface ResolvedOptions {
  readonly urls: readonly string[];
  readonly sessionId: string;
  readonly token: string | undefined;
  readonly getToken: (() => Promise<string> | string) | undefined;
  readonly maxTokenFailures: number;
  readonly store: PositionStore;
  readonly from: 'start' | number | undefined;
  readonly retryStrategy: RetryStrategy;
  readonly ackEveryMessages: number;
  readonly ackEveryMs: number;
  readonly tokenRefreshMarginMs: number;
  readonly helloTimeoutMs: number;
  readonly socketOptions: SocketIoOptions;
}

/**
 * Ack cadence defaults. Acks cost the edge and Redis one write each, so the SDK batches them
 * (cumulative acks lose nothing by being late); the flow window and resume positions only need
 * them to be recent, not per message.
 */
export const DEFAULT_ACK_EVERY_MESSAGES = 50;
export const DEFAULT_ACK_EVERY_MS = 100;
/** How long a connection attempt may wait for `hello` (see `helloTimeoutMs`). */
export const DEFAULT_HELLO_TIMEOUT_MS = 20_000;

function invalid(message: string): never {
  throw new HoldfastClientError(ErrorCode.InvalidOptions, `connect(): ${message}`);
}

function nonNegativeInt(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const problem = integerOptionProblem(name, value, { min });
  if (problem !== undefined) invalid(problem);
  return value;
}

/** Validates `connect()`'s arguments once, naming the option to fix. */
export function resolveOptions(
  urlOrUrls: string | readonly string[],
  options: ConnectOptions,
): ResolvedOptions {
  const urls = typeof urlOrUrls === 'string' ? [urlOrUrls] : [...urlOrUrls];
  if (urls.length === 0 || urls.some((url) => typeof url !== 'string' || url.length === 0)) {
    invalid('give at least one edge URL, e.g. "https://edge.example.com"');
  }
  const { sessionId } = options;
  if (!isSessionId(sessionId)) {
    invalid(`sessionId must be 1-${SESSION_ID_MAX_LENGTH} characters of A-Z a-z 0-9 _ -`);
  }
  if (options.token === undefined && options.getToken === undefined) {
    invalid('give token or getToken (getToken also lets the client refresh expiring tokens)');
  }
  if (options.getToken !== undefined && typeof options.getToken !== 'function') {
    invalid('getToken must be a function returning a token (or a promise of one)');
  }
  const { from } = options;
  if (from !== undefined && from !== 'start' && !isOffset(from)) {
    invalid(`from must be 'start' or an offset (a non-negative integer), got ${String(from)}`);
  }
  return {
    urls,
    sessionId,
    token: options.token,
    getToken: options.getToken,
    maxTokenFailures:
      options.maxTokenFailures === Infinity
        ? Infinity
        : nonNegativeInt('maxTokenFailures', options.maxTokenFailures, DEFAULT_MAX_TOKEN_FAILURES, 1),
    store: options.store ?? memoryStore(),
    from,
    retryStrategy: options.retryStrategy ?? defaultRetryStrategy,
    ackEveryMessages: nonNegativeInt(
      'ackEveryMessages',
      options.ackEveryMessages,
      DEFAULT_ACK_EVERY_MESSAGES,
      1,
    ),
    ackEveryMs: nonNegativeInt('ackEveryMs', options.ackEveryMs, DEFAULT_ACK_EVERY_MS),
    tokenRefreshMarginMs: nonNegativeInt('tokenRefreshMarginMs', options.tokenRefreshMarginMs, 60_000),
    helloTimeoutMs: nonNegativeInt('helloTimeoutMs', options.helloTimeoutMs, DEFAULT_HELLO_TIMEOUT_MS, 1),
    socketOptions: options.socketOptions ?? {},
  };
}
