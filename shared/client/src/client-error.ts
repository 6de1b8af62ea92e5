import type { ErrorCode } from '@holdfast/protocol';
import { actionFor, type ClientAction } from './code-table.js';

/** Codes the client itself raises; the edge's codes are `ErrorCode`s (docs/protocol.md). */
export const ClientErrorCode = {
  /** A connection attempt failed without a code from the edge (refused, DNS, TLS, timeout). */
  ConnectFailed: 'connect_failed',
  /** An open connection ended without a notice (transport close or error, ping timeout). */
  ConnectionLost: 'connection_lost',
  /** A `message` or `reset` listener threw or rejected: the message is redelivered. */
  HandlerFailed: 'handler_failed',
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
