import {
  isWorkerEnvelope,
  type CompletePayload,
  type ResetPayload,
  type WorkerEnvelope,
} from '@holdfast/protocol';

/** What producers write: a key unique in the run (also the message id), its order, a checksum. */
export interface ProducedData {
  readonly k: string;
  readonly s: number;
  readonly h: number;
}

export type AppendState = 'pending' | 'acked' | 'indeterminate';

export interface AppendRecord {
  readonly key: string;
  readonly seq: number;
  state: AppendState;
  epoch?: string;
  offset?: number;
  /** Attempts that failed or timed out before the one that was acknowledged (retried with the same id). */
  failedAttempts: number;
  /** The acknowledgement said the id had been written already (an earlier, indeterminate attempt). */
  duplicateAck: boolean;
  ackedAt?: number;
  /** The code that refused the append for good (`session_completed` once the session completed). */
  refusedCode?: string;
  refusedAt?: number;
}

export interface SendRecord {
  readonly id: string;
  /** When the app called `send`. */
  readonly sentAt: number;
  acked: boolean;
  ackedAt?: number;
  duplicateAck: boolean;
  /** The code the send was rejected with (`session_completed` after the session completed). */
  rejectedCode?: string;
  rejectedAt?: number;
}

/** The app's `complete` event, with what the app had handled when it fired. */
export interface CompleteSeen {
  readonly complete: CompletePayload;
  readonly at: number;
  readonly handled: { epoch: string; offset: number } | undefined;
}

/** What one client's app saw between two resets: one consistent view of the log. */
interface View {
  readonly startedAt: number;
  readonly reset: ResetPayload | undefined;
  epoch: string | undefined;
  /** The next offset the app must get. */
  expected: number;
  readonly keys: Set<string>;
  lastSeq: number;
  /** Per inbound message id: attempts that published a final part, and the highest aborted attempt. */
  readonly replies: Map<string, { finals: Set<number>; aborted: number; errored: boolean }>;
}

export interface Anomaly {
  readonly kind: 'duplicate' | 'reorder' | 'unexpected';
  readonly sessionId: string;
  readonly detail: string;
  readonly at: number;
}

/** fnv-1a of the key: a payload the app gets must carry the checksum its producer wrote. */
export function checksum(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The books of one session: every append its producer attempted (acknowledged or not), every
 * inbound send of its client, and everything its client's app was handed, checked as it
 * arrives: each offset once and in order within a view, each producer key once, payloads intact,
 * acknowledged appends at the offset they were acknowledged with.
 */
export class SessionLedger {
  readonly appends = new Map<string, AppendRecord>();
  readonly sends = new Map<string, SendRecord>();
  readonly resets: Array<{ at: number; reset: ResetPayload }> = [];
  readonly anomalies: Anomaly[] = [];
  readonly views: View[] = [];
  delivered = 0;
  /** Every producer key the app was handed, in any view. */
  readonly everDelivered = new Set<string>();
  lastDeliveryAt = 0;
  /** The (epoch, offset) of the last message the app handled. */
  position: { epoch: string; offset: number } | undefined;
  /** Every `complete` the app got (exactly one for a completed session). */
  readonly completes: CompleteSeen[] = [];
  /** Messages handed to the app after its `complete`: none may come. */
  messagesAfterComplete = 0;
  /** The session's `closed` state, and any state change after it (a completed session never reconnects). */
  closed: { reason: string | undefined; at: number } | undefined;
  readonly statesAfterClose: string[] = [];

  constructor(readonly sessionId: string) {
    this.views.push(newView(undefined, 1));
  }

  get view(): View {
    return this.views.at(-1)!;
  }

  /** The app got a reset: it rebuilds, and a new view starts at `resumeFrom` of the new epoch. */
  onReset(reset: ResetPayload, at: number): void {
    this.resets.push({ at, reset });
    const view = newView(reset, reset.resumeFrom);
    view.epoch = reset.newEpoch;
    this.views.push(view);
    this.position = { epoch: reset.newEpoch, offset: reset.resumeFrom - 1 };
  }

  /** The app's `complete`: every message up to the final offset was handled. */
  onComplete(complete: CompletePayload, at: number): void {
    this.completes.push({ complete, at, handled: this.position && { ...this.position } });
  }

  /** A state change of the client; after `closed` nothing may follow. */
  onState(state: string, reason: string | undefined, at: number): void {
    if (this.closed) this.statesAfterClose.push(`${state}${reason ? `:${reason}` : ''}`);
    else if (state === 'closed') this.closed = { reason, at };
  }

  onMessage(epoch: string, offset: number, data: unknown, at: number): void {
    this.delivered++;
    if (this.completes.length > 0) this.messagesAfterComplete++;
    this.lastDeliveryAt = at;
    const view = this.view;
    const flag = (kind: Anomaly['kind'], detail: string): void => {
      this.anomalies.push({ kind, sessionId: this.sessionId, detail, at });
    };
    view.epoch ??= epoch;
    if (epoch !== view.epoch) {
      flag(
        'reorder',
        `offset ${offset} of epoch ${epoch} inside a view of epoch ${view.epoch} without a reset`,
      );
    } else if (offset < view.expected) {
      flag('duplicate', `offset ${offset} again (expected ${view.expected})`);
    } else if (offset > view.expected) {
      flag('reorder', `offset ${offset} where ${view.expected} was due (a gap)`);
    }
    view.expected = Math.max(view.expected, offset + 1);
    this.position = { epoch, offset };

    if (isWorkerEnvelope(data)) {
      this.#onEnvelope(view, data, flag);
      return;
    }
    if (!isProduced(data)) {
      flag(
        'unexpected',
        `offset ${offset}: data no producer of this run wrote: ${JSON.stringify(data).slice(0, 80)}`,
      );
      return;
    }
    const record = this.appends.get(data.k);
    if (record === undefined || data.h !== checksum(data.k)) {
      flag(
        'unexpected',
        `offset ${offset}: key ${data.k} ${record ? 'with a bad checksum' : 'was never appended here'}`,
      );
      return;
    }
    if (view.keys.has(data.k)) flag('duplicate', `key ${data.k} again at offset ${offset}`);
    if (data.s < view.lastSeq) flag('reorder', `seq ${data.s} after seq ${view.lastSeq} (offset ${offset})`);
    if (record.state === 'acked' && record.epoch === epoch && record.offset !== offset) {
      flag('unexpected', `key ${data.k} at offset ${offset}, acknowledged at ${record.offset}`);
    }
    view.keys.add(data.k);
    view.lastSeq = Math.max(view.lastSeq, data.s);
    this.everDelivered.add(data.k);
  }

  #onEnvelope(view: View, data: WorkerEnvelope, flag: (kind: Anomaly['kind'], detail: string) => void): void {
    if (!this.sends.has(data.messageId)) {
      flag('unexpected', `a worker envelope for message ${data.messageId}, which this client never sent`);
      return;
    }
    const entry = view.replies.get(data.messageId) ?? {
      finals: new Set<number>(),
      aborted: 0,
      errored: false,
    };
    view.replies.set(data.messageId, entry);
    switch (data.$holdfast) {
      case 'reply':
        if (isFinal(data.data)) entry.finals.add(data.attempt);
        break;
      case 'attempt_aborted':
        entry.aborted = Math.max(entry.aborted, data.attempt);
        break;
      case 'error':
        entry.errored = true;
        break;
    }
  }

  /** Per inbound id in the final view: how many attempts' complete replies stand (not aborted). */
  inboundOutcome(id: string): { completions: number; errored: boolean; aborted: boolean } {
    const entry = this.view.replies.get(id);
    if (!entry) return { completions: 0, errored: false, aborted: false };
    const standing = [...entry.finals].filter((attempt) => attempt > entry.aborted);
    return { completions: standing.length, errored: entry.errored, aborted: entry.aborted > 0 };
  }

  /** Epochs this client's app was told were gone (reset away from them). */
  resetEpochs(): Set<string> {
    const gone = new Set<string>();
    for (const { reset } of this.resets) {
      if (reset.reason === 'epoch_changed' && reset.oldEpoch) gone.add(reset.oldEpoch);
    }
    return gone;
  }
}

function newView(reset: ResetPayload | undefined, expected: number): View {
  return {
    startedAt: Date.now(),
    reset,
    epoch: undefined,
    expected,
    keys: new Set(),
    lastSeq: 0,
    replies: new Map(),
  };
}

function isProduced(data: unknown): data is ProducedData {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  return typeof d.k === 'string' && typeof d.s === 'number' && typeof d.h === 'number';
}

function isFinal(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'final';
}
