import { build, type Histogram } from 'hdr-histogram-js';

export interface FaultEvent {
  readonly kind: string;
  readonly detail: string;
  readonly startedAt: number;
  endedAt?: number;
  error?: string;
}

/** A connection lost this long after a fault ended still counts as that fault's doing. */
const ATTRIBUTION_GRACE_MS = 3_000;

interface Pending {
  readonly kind: string;
  readonly startedAt: number;
  readonly seqAtFault: number;
}

/**
 * Faults injected so far and the resume times they caused, per kind of fault:
 * - `reconnect`: for each client whose connection was lost during (or just after) the fault,
 *   from losing it to the next open connection;
 * - `fresh`: for each client, from the fault's start until its app got a message appended after
 *   that start (includes the producer's own pace, about half its interval, for clients the fault
 *   did not touch).
 */
export class FaultLog {
  readonly events: FaultEvent[] = [];
  readonly reconnect = new Map<string, Histogram>();
  readonly fresh = new Map<string, Histogram>();
  readonly #lostAt = new Map<number, number>();
  readonly #pending = new Map<number, Pending>();

  begin(
    kind: string,
    detail: string,
    seqOf: (client: number) => number,
    clients: Iterable<number>,
  ): FaultEvent {
    const event: FaultEvent = { kind, detail, startedAt: Date.now() };
    this.events.push(event);
    // A measurement still pending from the previous fault is dropped: the new fault would blur it.
    this.#pending.clear();
    for (const client of clients) {
      this.#pending.set(client, { kind, startedAt: event.startedAt, seqAtFault: seqOf(client) });
    }
    return event;
  }

  end(event: FaultEvent, error?: unknown): void {
    event.endedAt = Date.now();
    if (error !== undefined) event.error = error instanceof Error ? error.message : String(error);
  }

  /** Stops measuring a client (it stalls on purpose, which is not the fault's doing). */
  exclude(client: number): void {
    this.#pending.delete(client);
  }

  clientLost(client: number, at: number): void {
    if (!this.#lostAt.has(client)) this.#lostAt.set(client, at);
  }

  clientOpened(client: number, at: number): void {
    const lostAt = this.#lostAt.get(client);
    if (lostAt === undefined) return;
    this.#lostAt.delete(client);
    const fault = this.#faultAt(lostAt);
    if (fault) record(this.reconnect, fault.kind, at - lostAt);
  }

  /** The client's app handled producer message `seq`. */
  delivered(client: number, seq: number, at: number): void {
    const pending = this.#pending.get(client);
    if (pending === undefined || seq <= pending.seqAtFault) return;
    this.#pending.delete(client);
    record(this.fresh, pending.kind, at - pending.startedAt);
  }

  get count(): number {
    return this.events.length;
  }

  #faultAt(at: number): FaultEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const event = this.events[i]!;
      const end = (event.endedAt ?? Date.now()) + ATTRIBUTION_GRACE_MS;
      if (event.startedAt <= at && at <= end) return event;
    }
    return undefined;
  }
}

function record(map: Map<string, Histogram>, kind: string, ms: number): void {
  let histogram = map.get(kind);
  if (!histogram) {
    histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000,
      numberOfSignificantValueDigits: 3,
    });
    map.set(kind, histogram);
  }
  histogram.recordValue(Math.max(1, Math.round(ms)));
}
