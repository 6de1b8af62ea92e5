import type { TokenRefreshReply } from '@holdfast/protocol';
import { ClientErrorCode, HoldfastClientError } from './client-error.js';
import { tokenFailure } from './token-failures.js';
import { expiresSoon, refreshDelay } from './token-refresh.js';
import { describeError } from './describe-error.js';

type Timer = ReturnType<typeof setTimeout>;

/** How long a live token refresh may wait for the edge's answer before the client reconnects. */
const REFRESH_TIMEOUT_MS = 10_000;
/** Shortest wait before retrying `getToken()` for a live refresh that failed. */
const RETRY_MIN_MS = 1000;

export interface TokenKeeperEvents {
  /** `getToken()` failed during a live refresh; the connection is kept and the refresh retried. */
  error(error: HoldfastClientError): void;
  /**
   * The edge refused the fresh token or did not answer: reconnect with a fresh one; or
   * `getToken()` said stop (`action: 'stop'`): the session ends with that code.
   */
  refreshFailed(error: HoldfastClientError): void;
}

/**
 * The session's token: which one to connect with (asking `getToken()` when there is none, it
 * was refused as expired, or it expires within the margin), and keeping a live connection's
 * token fresh with the `token` event, without reconnecting.
 */
export class TokenKeeper {
  private expiresAt: number | undefined;
  private stale = false;
  private timer: Timer | undefined;
  /** Bumped by every watch/unwatch: answers for an older connection are ignored. */
  private generation = 0;
  /** `getToken()` failures in a row while connecting; `maxFailures` of them end the session. */
  private failuresInARow = 0;

  constructor(
    private token: string | undefined,
    private readonly getToken: (() => Promise<string> | string) | undefined,
    private readonly marginMs: number,
    private readonly maxFailures: number,
    private readonly events: TokenKeeperEvents,
  ) {}

  get canRefresh(): boolean {
    return this.getToken !== undefined;
  }

  /** The edge refused the token as expired or not yet valid: fetch a new one before connecting. */
  markStale(): void {
    this.stale = true;
  }

  /**
   * The token to connect with. Rejects with a `token_unavailable` `HoldfastClientError` when
   * `getToken()` fails: `action: 'stop'` when it said stop or failed `maxFailures` times in a row.
   */
  async forConnecting(): Promise<string> {
    const stale =
      this.token === undefined || this.stale || expiresSoon(this.expiresAt, Date.now(), this.marginMs);
    if (stale && this.getToken) {
      try {
        this.token = await this.fetch();
      } catch (error) {
        throw tokenFailure(error, ++this.failuresInARow, this.maxFailures);
      }
      this.failuresInARow = 0;
      this.expiresAt = undefined;
      this.stale = false;
    }
    return this.token ?? '';
  }

  /** A connection opened with the current token, which expires at `expiresAt`: keep it fresh. */
  watch(expiresAt: number, send: (token: string, timeoutMs: number) => Promise<TokenRefreshReply>): void {
    this.unwatch();
    this.expiresAt = expiresAt;
    if (this.getToken) this.schedule(refreshDelay(expiresAt, Date.now(), this.marginMs), send);
  }

  unwatch(): void {
    this.generation++;
    clearTimeout(this.timer);
  }

  private schedule(
    delay: number,
    send: (token: string, timeoutMs: number) => Promise<TokenRefreshReply>,
  ): void {
    const generation = this.generation;
    this.timer = setTimeout(() => void this.refresh(generation, send), delay);
  }

  private async refresh(
    generation: number,
    send: (token: string, timeoutMs: number) => Promise<TokenRefreshReply>,
  ): Promise<void> {
    let token: string;
    try {
      token = await this.fetch();
    } catch (error) {
      if (generation !== this.generation) return;
      // getToken said stop (a stop code, e.g. session_ended): end the session, do not retry.
      const verdict = tokenFailure(error, 1, Infinity);
      if (verdict.action === 'stop') return this.events.refreshFailed(verdict);
      this.events.error(
        new HoldfastClientError(
          ClientErrorCode.TokenUnavailable,
          `getToken() failed: ${describeError(error)}`,
          {
            cause: error,
          },
        ),
      );
      // Keep the connection: the edge ends it with token_expired if no refresh ever succeeds.
      this.schedule(Math.max(RETRY_MIN_MS, ((this.expiresAt ?? 0) - Date.now()) / 2), send);
      return;
    }
    if (generation !== this.generation) return;
    let failure: HoldfastClientError;
    try {
      const reply = await send(token, REFRESH_TIMEOUT_MS);
      if (generation !== this.generation) return;
      if (reply.ok) {
        this.token = token;
        this.watch(reply.tokenExpiresAt, send);
        return;
      }
      failure = new HoldfastClientError(
        ClientErrorCode.TokenRefreshFailed,
        `the edge refused the refreshed token (${reply.code}: ${reply.message}); reconnecting with a fresh one`,
        { action: 'refresh_token' },
      );
    } catch (error) {
      if (generation !== this.generation) return;
      failure = new HoldfastClientError(
        ClientErrorCode.TokenRefreshFailed,
        `the edge did not answer the token refresh (${describeError(error)}); reconnecting with a fresh token`,
        { action: 'refresh_token', cause: error },
      );
    }
    this.stale = true;
    this.events.refreshFailed(failure);
  }

  private async fetch(): Promise<string> {
    const token: unknown = await this.getToken?.();
    if (typeof token !== 'string') throw new TypeError(`getToken() returned ${typeof token}, not a string`);
    return token;
  }
}
