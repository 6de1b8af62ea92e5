import { randomBytes } from 'node:crypto';

/** Demo sessions are `demo-<random>`: the demo back end mints tokens for those only. */
export const DEMO_SESSION_PATTERN = /^demo-[A-Za-z0-9_-]{1,59}$/;
/** The consumer id of the demo page's tokens (its acks are stored under it). */
export const DEMO_CONSUMER = 'demo-page';

export interface HoldfastApiOptions {
  readonly apiUrl: string;
  /** Stays here: the browser only ever gets session tokens. */
  readonly apiKey: string;
  /** Lifetime of the tokens handed to the page; the SDK asks for a new one before it runs out. */
  readonly tokenTtlSeconds: number;
}

/** An answer of the Holdfast API that was not a success, passed on to the page as it is. */
export class ApiAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`the Holdfast API answered ${status}`);
  }
}

/**
 * What the demo page may ask of the Holdfast API, done with the API key on the server: create a
 * demo session, mint a token for one, read its head and the demo consumer's ack.
 */
export class HoldfastApi {
  constructor(private readonly options: HoldfastApiOptions) {}

  async createSession(): Promise<{ sessionId: string; token: string; tokenExpiresAt: number }> {
    const sessionId = `demo-${randomBytes(12).toString('base64url')}`;
    const created = await this.#call<{ token: string; tokenExpiresAt: number }>('POST', '/v1/sessions', {
      sessionId,
      consumerId: DEMO_CONSUMER,
      tokenTtlSeconds: this.options.tokenTtlSeconds,
    });
    return { sessionId, token: created.token, tokenExpiresAt: created.tokenExpiresAt };
  }

  issueToken(sessionId: string): Promise<{ token: string; tokenExpiresAt: number }> {
    return this.#call('POST', `/v1/sessions/${sessionId}/token`, {
      consumerId: DEMO_CONSUMER,
      ttlSeconds: this.options.tokenTtlSeconds,
    });
  }

  /** Ends the conversation normally: the page gets every message, then `complete`. */
  complete(sessionId: string): Promise<{ epoch: string; finalOffset: number }> {
    return this.#call('POST', `/v1/sessions/${sessionId}/complete`, {});
  }

  async logStatus(sessionId: string): Promise<{ epoch: string; head: number; acked: number }> {
    const info = await this.#call<{ epoch: string; head: number; acks: Record<string, number> }>(
      'GET',
      `/v1/sessions/${sessionId}`,
    );
    return { epoch: info.epoch, head: info.head, acked: info.acks[DEMO_CONSUMER] ?? 0 };
  }

  async #call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.options.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.options.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer: unknown = await res.json();
    if (!res.ok) throw new ApiAnswerError(res.status, answer);
    return answer as T;
  }
}
