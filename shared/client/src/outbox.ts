import {
  ErrorCode,
  isMessageId,
  type SendPayload,
  type SendReply,
  type SizeLimits,
} from '@holdfast/protocol';
import { HoldfastClientError } from './client-error.js';
import { actionFor } from './code-table.js';
import { DEFAULT_SIZE_LIMITS, oversize } from './send-limits.js';
import { isOutboxEntry, type OutboxEntry, type PositionStore } from './position-store.js';
import { randomId } from './random-id.js';

export interface SendOptions {
  /** The message id (1–128 characters of `A-Z a-z 0-9 _ . -`); generated when not given. */
  readonly id?: string;
}

export interface SendResult {
  readonly id: string;
  /** The message's position in the session's inbox (the edge's `seq`). */
  readonly seq: number;
  /** The edge had already accepted this id (an earlier send with it, or a resend after a lost answer). */
  readonly duplicate: boolean;
}

/** Emits one `send` on the open connection; `answer` gets the edge's reply or a local failure. */
export type SendTransport = (payload: SendPayload, answer: (reply: SendReply) => void) => void;

interface Item {
  readonly entry: OutboxEntry;
  readonly resolve?: (result: SendResult) => void;
  readonly reject?: (error: HoldfastClientError) => void;
  /** Emissions so far: only the latest one's failures count. */
  emissions: number;
}

type Timer = ReturnType<typeof setTimeout>;

const MAX_BACKOFF_MS = 5000;

/**
 * The sends the edge has not yet accepted, in send order. One is in flight at a time: the next
 * goes out only once the edge accepted the one before, so the edge accepts them in send order
 * whatever happens to connections (a resend of an accepted id is answered `duplicate: true`).
 * After a reconnect the head is sent again first. Persisted through the store's optional
 * `saveOutbox` after every change, so a restarted client replays what was never accepted.
 */
export class Outbox {
  private readonly items: Item[] = [];
  private transport: SendTransport | undefined;
  /** Bumped when the transport changes: failures reported by an older connection are ignored. */
  private generation = 0;
  private inFlight = false;
  private pausedUntil = 0;
  private wakeTimer: Timer | undefined;
  private failures = 0;
  private loaded = false;
  private stopped: HoldfastClientError | undefined;
  private saving: Promise<void> | undefined;
  private dirty = false;
  private limits: SizeLimits = DEFAULT_SIZE_LIMITS;

  constructor(
    private readonly store: PositionStore,
    private readonly sessionId: string,
    private readonly onStoreError: (operation: 'load' | 'save', error: unknown) => void,
    /** A stored entry (restored, no promise) was dropped: the app hears of it only this way. */
    private readonly onRefused: (id: string, error: HoldfastClientError) => void = () => {},
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** Loads the stored outbox ahead of anything sent meanwhile; saving starts only after this. */
  async load(): Promise<void> {
    try {
      const stored: unknown = await this.store.loadOutbox?.(this.sessionId);
      if (stored !== undefined && stored !== null) {
        if (!Array.isArray(stored) || !stored.every(isOutboxEntry)) {
          throw new TypeError('the store returned an outbox that is not an array of { id, data }');
        }
        this.items.unshift(
          ...stored.map((entry: OutboxEntry) => ({
            entry: { id: entry.id, data: entry.data },
            emissions: 0,
          })),
        );
      }
    } catch (error) {
      this.onStoreError('load', error);
    }
    this.loaded = true;
    if (this.dirty) this.save(); // sends made while loading
    this.pump();
  }

  send(data: unknown, options: SendOptions = {}): Promise<SendResult> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = options.id ?? newMessageId();
    if (!isMessageId(id)) {
      return Promise.reject(
        new HoldfastClientError(
          ErrorCode.InvalidMessageId,
          `message id must be 1-128 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(id)}`,
        ),
      );
    }
    if (data === undefined) {
      return Promise.reject(
        new HoldfastClientError(ErrorCode.InvalidPayload, 'send() needs data (a JSON value)'),
      );
    }
    // Refused at once, never stored: an oversize head would block every send behind it.
    const tooLarge = oversize(id, data, this.limits);
    if (tooLarge) return Promise.reject(tooLarge);
    return new Promise((resolve, reject) => {
      this.items.push({ entry: { id, data }, resolve, reject, emissions: 0 });
      this.save();
      this.pump();
    });
  }

  /** The limits the edge announced in `hello`; call before `attach`. */
  setLimits(limits: SizeLimits): void {
    this.limits = limits;
  }

  /** A connection opened: send the outbox (the head first, again) over it. */
  attach(transport: SendTransport): void {
    this.generation++;
    this.transport = transport;
    this.inFlight = false;
    this.pausedUntil = 0; // the edge's event rate is per connection
    this.pump();
  }

  /** The connection is gone: what was in flight is sent again on the next one. */
  detach(): void {
    this.generation++;
    this.transport = undefined;
    this.inFlight = false;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
  }

  /**
   * The edge dropped one of our events (`fault` `rate_limited`). It may have been the send in
   * flight, whose answer then never comes: send it again after the wait unless answered first.
   */
  rateLimited(retryAfterMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + retryAfterMs);
    this.inFlight = false;
    this.pump();
  }

  /**
   * No more sends. Pending promises reject with `error`; the entries stay in the store's outbox
   * (sent by the next session with this store) unless `discard`.
   */
  stop(error: HoldfastClientError, discard: boolean): void {
    if (this.stopped) return;
    this.stopped = error;
    this.detach();
    for (const item of this.items) item.reject?.(error);
    if (discard) {
      this.items.length = 0;
      this.save();
    } else {
      // Only the promises go: the entries stay as stored.
      this.items.splice(0, this.items.length, ...this.items.map((i) => ({ entry: i.entry, emissions: 0 })));
    }
  }

  /** Resolves once every outbox change so far is written to the store. */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
  }

  private pump(): void {
    const transport = this.transport;
    const head = this.items[0];
    if (!transport || !head || this.inFlight || !this.loaded || this.stopped) return;
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      if (!this.wakeTimer) {
        this.wakeTimer = setTimeout(() => {
          this.wakeTimer = undefined;
          this.pump();
        }, wait);
      }
      return;
    }
    // A stored entry from before the limits were known (or changed): settle it, never send it.
    const tooLarge = oversize(head.entry.id, head.entry.data, this.limits);
    if (tooLarge) return this.refuse(head, tooLarge);
    this.inFlight = true;
    const emission = ++head.emissions;
    const generation = this.generation;
    transport({ id: head.entry.id, data: head.entry.data }, (reply) =>
      this.onReply(head, emission, generation, reply),
    );
  }

  private onReply(item: Item, emission: number, generation: number, reply: SendReply): void {
    if (this.items[0] !== item || this.stopped) return; // answered before (a resend's answer)
    if (reply.ok) {
      // Accepted, whichever emission or connection this answer belongs to.
      this.items.shift();
      this.inFlight = false;
      this.failures = 0;
      this.save();
      item.resolve?.({ id: reply.id, seq: reply.seq, duplicate: reply.duplicate });
      return this.pump();
    }
    if (emission !== item.emissions || generation !== this.generation) return; // superseded
    this.inFlight = false;
    const action = actionFor(reply.code);
    if (reply.code === ErrorCode.RateLimited || action !== 'stop') {
      this.failures++;
      const backoff =
        reply.code === ErrorCode.RateLimited ? 100 : Math.min(MAX_BACKOFF_MS, 50 * 2 ** this.failures);
      this.pausedUntil = Date.now() + Math.max(reply.retryAfterMs ?? 0, backoff);
      return this.pump();
    }
    // Will never be accepted as it is: give up on this one, go on with the next.
    this.refuse(item, new HoldfastClientError(reply.code, reply.message, { action: 'stop' }));
  }

  /** The head can never be accepted: settle it with `error`, remove it, go on with the next. */
  private refuse(item: Item, error: HoldfastClientError): void {
    this.items.shift();
    this.save();
    if (item.reject) item.reject(error);
    else this.onRefused(item.entry.id, error);
    this.pump();
  }

  /** Writes the outbox, coalesced: one save in flight, the next writes the latest state. */
  private save(): void {
    this.dirty = true;
    if (!this.loaded || this.saving || !this.store.saveOutbox) return;
    const saving = this.writeLoop();
    this.saving = saving;
    void saving.then(() => {
      if (this.saving === saving) this.saving = undefined;
    });
  }

  private async writeLoop(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      try {
        await this.store.saveOutbox?.(
          this.sessionId,
          this.items.map((item) => item.entry),
        );
      } catch (error) {
        this.onStoreError('save', error);
      }
    }
  }
}

/**
 * The error pending sends reject with when the session stops for good: `session_closed`, a
 * rejection code of `send()` only (never a connection's code, so not in `ClientErrorCode`).
 */
export function sessionClosedError(reason: string, persisted: boolean): HoldfastClientError {
  const kept = persisted
    ? 'it stays in the store’s outbox and a later session with this store sends it'
    : 'it was not sent (the store keeps no outbox)';
  return new HoldfastClientError(
    'session_closed',
    `the session closed (${reason}) before the edge accepted this message; ${kept}`,
    { action: 'stop' },
  );
}

/** A fresh message id (random-id.ts). */
export const newMessageId = randomId;
