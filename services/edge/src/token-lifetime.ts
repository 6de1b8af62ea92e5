/**
 * Connections' token lifetimes: a connection ends when its token expires unless the client
 * refreshed it on the live connection (`token` event) with one for the same session and
 * consumer. Expiries are kept edge-wide, in one wheel with one timer, rather than a Timeout (and
 * its callback closures) per connection: an idle connection then costs the wheel a set entry.
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

/** Verify a token for a session; resolves to its consumer and expiry (epoch ms). */
export type VerifyToken = (
  token: unknown,
  sessionId: string,
) => Promise<{ consumerId: string; expiresAt: number }>;

/** A connection whose token expires. */
export interface TokenHolder {
  readonly sessionId: string;
  readonly consumerId: string;
  /** When its token expires (epoch ms); the wheel moves it on a refresh. */
  tokenExpiresAt: number;
  /** The expiry came without a refresh: the connection ends. */
  onTokenExpired(): void;
}

/**
 * Every connection's token expiry on one edge, grouped by expiry time (tokens carry `exp` in
 * whole seconds, so connections opened in the same second share a group), with one timer set
 * for the earliest. A holder is told once its time has come, as its own timer would have.
 */
export class TokenExpiryWheel {
  private readonly due = new Map<number, Set<TokenHolder>>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (Infinity: no timer). */
  private timerAt = Infinity;
  private stopped = false;

  constructor(private readonly verify: VerifyToken) {}

  /** Tell `holder` when its `tokenExpiresAt` has come, unless it is refreshed or untracked first. */
  track(holder: TokenHolder): void {
    if (this.stopped) return;
    const at = holder.tokenExpiresAt;
    const group = this.due.get(at);
    if (group) group.add(holder);
    else this.due.set(at, new Set([holder]));
    if (at < this.timerAt) this.schedule(at);
  }

  /** The connection ended: nothing left to expire. */
  untrack(holder: TokenHolder): void {
    const group = this.due.get(holder.tokenExpiresAt);
    if (!group?.delete(holder)) return;
    // The timer stays; when it fires for an emptied time it moves on to the next one.
    if (group.size === 0) this.due.delete(holder.tokenExpiresAt);
  }

  /** A `token` event: answer it, and on success move the holder's expiry. */
  async refresh(holder: TokenHolder, payload: unknown, reply: unknown): Promise<void> {
    if (typeof reply !== 'function') return;
    const answer = reply as (result: TokenRefreshReply) => void;
    const { token } = validateTokenRefresh(payload);
    try {
      const verified = await this.verify(token, holder.sessionId);
      if (verified.consumerId !== holder.consumerId) {
        throw new HoldfastError(ErrorCode.TokenWrongSession, 'the new token names another consumer');
      }
      this.move(holder, verified.expiresAt);
      answer({ ok: true, tokenExpiresAt: verified.expiresAt });
    } catch (error) {
      const e = isHoldfastError(error)
        ? error
        : new HoldfastError(ErrorCode.TokenInvalid, 'the token could not be verified');
      answer({ ok: false, code: e.code, message: e.message });
    }
  }

  /** Holders waiting. */
  get size(): number {
    let count = 0;
    for (const group of this.due.values()) count += group.size;
    return count;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.due.clear();
  }

  /** A refreshed token: its new expiry replaces the old (a connection that ended stays out). */
  private move(holder: TokenHolder, expiresAt: number): void {
    const tracked = this.due.get(holder.tokenExpiresAt)?.has(holder) ?? false;
    this.untrack(holder);
    holder.tokenExpiresAt = expiresAt;
    if (tracked) this.track(holder);
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.expire(), delay);
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    const expired: Array<Set<TokenHolder>> = [];
    let next = Infinity;
    for (const [at, group] of this.due) {
      if (at <= now) {
        expired.push(group);
        this.due.delete(at);
      } else if (at < next) {
        next = at;
      }
    }
    if (next < Infinity) this.schedule(next);
    for (const group of expired) for (const holder of group) holder.onTokenExpired();
  }
}
