import type { ErrorCode } from '@holdfast/protocol';
import { actionFor, type ClientAction } from './code-table.js';
import { describeError } from './describe-error.js';

/** Codes the client itself raises; the edge's codes are `ErrorCode`s (docs/protocol.md). */
export const ClientErrorCode = {
  /** A connection attempt failed without a code from the edge (refused, DNS, TLS, timeout). */
  ConnectFailed: 'connect_failed',
  /** An open connection ended without a notice (transport close or error, ping timeout). */
  ConnectionLost: 'connection_lost',
  /** A `message` or `reset` listener threw or rejected: the message is redelivered. */
  ListenerFailed: 'listener_failed',
  /** The edge broke the delivery contract (a gap, a foreign epoch): reconnect from the position. */
  ProtocolViolation: 'protocol_violation',
  /** `getToken()` threw or rejected. */
  TokenUnavailable: 'token_unavailable',
  /** The edge refused a token refresh on a live connection, or did not answer it. */
  TokenRefreshFailed: 'token_refresh_failed',
  /** The position store failed to load or save. */
  StoreFailed: 'store_failed',
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** An edge code, a client code, or a code from a newer edge this client does not know. */
export type HoldfastClientErrorCode = ErrorCode | ClientErrorCode | (string & Record<never, never>);

export interface HoldfastClientErrorOptions {
  /** What the session does about it; by default taken from the code table. */
  action?: ClientAction;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/** Every error the client reports, through `error` events and `state` changes. */
export class HoldfastClientError extends Error {
  override readonly name = 'HoldfastClientError';
  readonly code: HoldfastClientErrorCode;
  /** `retry`: reconnect with backoff; `refresh_token`: get a new token, then reconnect; `stop`. */
  readonly action: ClientAction;
  /** The edge asked to wait at least this long before reconnecting. */
  readonly retryAfterMs: number | undefined;

  constructor(code: HoldfastClientErrorCode, message: string, options: HoldfastClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.action = options.action ?? actionFor(code);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** socket.io-client refused the URL or options. */
export function connectFailed(url: string, error: unknown): HoldfastClientError {
  const message = `could not connect to ${url}: ${describeError(error)}`;
  return new HoldfastClientError(ClientErrorCode.ConnectFailed, message, { cause: error });
}

/** An app listener threw or rejected while handling `what`: it is delivered again. */
export function listenerFailed(error: unknown, what: string): HoldfastClientError {
  const message = `${what}: ${describeError(error)}; it is delivered again`;
  return new HoldfastClientError(ClientErrorCode.ListenerFailed, message, { cause: error });
}

/** The edge broke the delivery contract: the session resumes from the handled position. */
export function protocolViolation(violation: string): HoldfastClientError {
  const message = `the edge broke the delivery contract (${violation}); resuming from the handled position`;
  return new HoldfastClientError(ClientErrorCode.ProtocolViolation, message);
}

/** The app's `retryStrategy` threw: a bug in the app, so the session stops (`invalid_options`). */
export function retryStrategyThrew(error: unknown): HoldfastClientError {
  return new HoldfastClientError('invalid_options', `retryStrategy threw: ${describeError(error)}`, {
    cause: error,
  });
}
