/**
 * A connection's token lifetime: the connection ends when its token expires unless the client
 * refreshed it on the live connection (`token` event) with one for the same session and
 * consumer. Apart from SessionConnection because it has its own timer and its own replies.
 */
import {
  ErrorCode,
  HoldfastError,
  isHoldfastError,
  validateTokenRefresh,
  type TokenRefreshReply,
} from '@holdfast/protocol';

/** setTimeout caps at ~24.8 days; tokens live far less. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class TokenLifetime {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Verify a token for this connection's session; resolves to its consumer and expiry. */
    private readonly verify: (token: unknown) => Promise<{ consumerId: string; expiresAt: number }>,
    private readonly consumerId: string,
    expiresAt: number,
    private readonly onExpired: () => void,
  ) {
    this.scheduleExpiry(expiresAt);
  }

  /** A `token` event: answer it, and on success move the expiry. */
  async refresh(payload: unknown, reply: unknown): Promise<void> {
    if (typeof reply !== 'function') return;
    const answer = reply as (result: TokenRefreshReply) => void;
    const { token } = validateTokenRefresh(payload);
    try {
      const verified = await this.verify(token);
      if (verified.consumerId !== this.consumerId) {
        throw new HoldfastError(ErrorCode.TokenWrongSession, 'the new token names another consumer');
      }
      this.scheduleExpiry(verified.expiresAt);
      answer({ ok: true, tokenExpiresAt: verified.expiresAt });
    } catch (error) {
      const e = isHoldfastError(error)
        ? error
        : new HoldfastError(ErrorCode.TokenInvalid, 'the token could not be verified');
      answer({ ok: false, code: e.code, message: e.message });
    }
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private scheduleExpiry(expiresAt: number): void {
    clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.onExpired(), delay);
    this.timer.unref();
  }
}
