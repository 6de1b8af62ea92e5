import { newHistogram, percentiles, type Percentiles } from '../lib/histogram.js';
import { makePayload } from '../lib/payload.js';
import { nowMicros, sleep } from '../lib/stats.js';
import { runTokenStreams, type TokenStreamHost, type TokenStreamShape } from './token-streams.js';

/**
 * How a producer hands messages to the system under test. Each benchmark row names one:
 * - `emit`: Socket.IO's synchronous per-message emit (plain and recovery peers);
 * - `awaited`: one awaited append at a time, no concurrency (the worst case for durability);
 * - `concurrent`: one message per call, many calls in flight (group commit batches them);
 * - `batch16`: calls of 16 messages each, many in flight;
 * - `pipeline64` (raw XADD floor): pipelines of 64 single-message XADDs, many in flight;
 * - `tokens`: every session an LLM-like token stream, one send at a time per session
 *   (token-streams.ts); with `emit` sinks the send is Socket.IO's emit.
 */
export type Pattern = 'emit' | 'awaited' | 'concurrent' | 'batch16' | 'pipeline64' | 'tokens';

/** What a producer sends through: one message, or several for one session. */
export interface Sink {
  send(session: number, payload: string): Promise<unknown> | undefined;
  sendMany?(session: number, payloads: string[]): Promise<unknown>;
  /** Several (session, payload) pairs at once (a pipeline). */
  sendPipeline?(items: Array<[number, string]>): Promise<unknown>;
}

export interface RunSpec {
  readonly pattern: Pattern;
  readonly sessions: number;
  /** Open loop at this many messages/s; omitted: closed loop, as fast as `cap` allows. */
  readonly rate?: number;
  /** Closed loop: most messages sent but not yet counted at the clients (0: no client feedback). */
  readonly cap?: number;
  /** Most messages whose send has not resolved (durable sinks). @default 4096 */
  readonly maxInFlight?: number;
  /** `tokens`: the shape of every session's stream (the rate is per session, not `rate`). */
  readonly tokens?: TokenStreamShape;
}

export interface RunCounts {
  readonly sent: number;
  readonly acked: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly saturated: boolean;
  /**
   * From each message's intended send time to its append being acknowledged (durable sinks,
   * since the last `resetLatency`): the durable half of the delivery latency.
   */
  readonly ackLatency?: Percentiles;
}

const BATCH = { batch16: 16, pipeline64: 64 } as const;
/** Open loop gives up when this many sends are unresolved: the system is past saturation. */
const OPEN_LOOP_BACKLOG_LIMIT = 200_000;

/**
 * The producer side of every benchmark, identical for every peer: closed loop (keep at most
 * `cap` messages undelivered, counted at the clients and relayed by the runner) or open loop
 * (a fixed rate, each message stamped with its intended send time). Per-session sequence
 * numbers continue across runs, so the clients can count loss and duplicates exactly.
 */
export class ProducerDriver {
  private readonly seq: number[] = [];
  private sent = 0;
  private acked = 0;
  private errors = 0;
  private firstError: string | undefined;
  private credited = 0;
  private inFlight = 0;
  private running = false;
  private saturated = false;
  private done: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private cursor = 0;
  private ackLatency = newHistogram();

  constructor(
    private readonly sink: Sink,
    /** Open loop: how late each unit is handed to the sink after its intended time, µs. */
    private readonly onLate?: (micros: number) => void,
  ) {}

  /** Delivered count at the clients since this run began (closed-loop feedback). */
  credit(delivered: number): void {
    this.credited = delivered;
    this.wakeUp();
  }

  start(spec: RunSpec): void {
    if (this.running) throw new Error('a run is already going');
    this.running = true;
    this.sent = 0;
    this.acked = 0;
    this.errors = 0;
    this.firstError = undefined;
    this.credited = 0;
    this.saturated = false;
    this.ackLatency = newHistogram();
    this.done = this.run(spec).catch((error: unknown) => this.fail(error));
  }

  /** Start the acknowledgement latency afresh (after the warm-up). */
  resetLatency(): void {
    this.ackLatency = newHistogram();
  }

  counts(): RunCounts {
    return {
      ...(this.ackLatency.totalCount > 0 ? { ackLatency: percentiles(this.ackLatency) } : {}),
      sent: this.sent,
      acked: this.acked,
      errors: this.errors,
      saturated: this.saturated,
      ...(this.firstError ? { firstError: this.firstError } : {}),
    };
  }

  /** Stop sending; resolves once every send made has resolved. */
  async stop(): Promise<RunCounts> {
    this.running = false;
    this.wakeUp();
    await this.done;
    while (this.inFlight > 0) await sleep(5);
    return this.counts();
  }

  /** Sequence number the next message of `session` will carry (messages sent so far). */
  nextSeq(session: number): number {
    return this.seq[session] ?? 0;
  }

  /** Messages sent so far to each session (index = session). */
  sentPerSession(): number[] {
    return Array.from(this.seq, (n) => n ?? 0);
  }

  /** One message for `session`, numbered; `intended` defaults to now. */
  payloadFor(session: number, intended = nowMicros()): string {
    const seq = this.seq[session] ?? 0;
    this.seq[session] = seq + 1;
    return makePayload(seq, intended);
  }

  private run(spec: RunSpec): Promise<void> {
    if (spec.pattern === 'tokens') return runTokenStreams(this.tokenHost(), spec.sessions, spec.tokens);
    return spec.rate === undefined ? this.closedLoop(spec) : this.openLoop(spec, spec.rate);
  }

  /** The token streams send through the same sink and books as every other pattern. */
  private tokenHost(): TokenStreamHost {
    return {
      running: () => this.running,
      saturate: () => {
        this.saturated = true;
        this.running = false;
      },
      send: (session, intended, bytes) => {
        this.onLate?.(nowMicros() - intended);
        const seq = this.seq[session] ?? 0;
        this.seq[session] = seq + 1;
        const result = this.sink.send(session, makePayload(seq, intended, bytes));
        this.track(result, 1, intended);
        return result ? result.then(noop, noop) : Promise.resolve();
      },
    };
  }

  private async closedLoop(spec: RunSpec): Promise<void> {
    const cap = spec.cap ?? 0;
    const maxInFlight = spec.maxInFlight ?? 4096;
    const room = (): number => {
      const byCredit = cap > 0 ? cap - (this.sent - this.credited) : Infinity;
      return Math.min(byCredit, maxInFlight - this.inFlight);
    };
    while (this.running) {
      if (spec.pattern === 'awaited') {
        if (room() <= 0) {
          await this.waitForWake();
          continue;
        }
        const session = this.nextSession(spec.sessions);
        this.sent += 1;
        this.inFlight += 1;
        try {
          await this.sink.send(session, this.payloadFor(session));
          this.acked += 1;
        } catch (error) {
          this.fail(error);
        } finally {
          this.inFlight -= 1;
        }
        continue;
      }
      // Send in slices, yielding between them so sockets and Redis replies get the CPU.
      let slice = 0;
      while (this.running && slice < 512 && room() >= this.unit(spec.pattern)) {
        slice += this.dispatch(spec, nowMicros());
      }
      if (slice === 0) await this.waitForWake();
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async openLoop(spec: RunSpec, rate: number): Promise<void> {
    const start = nowMicros();
    const interval = 1_000_000 / rate;
    let index = 0;
    while (this.running) {
      const due = Math.floor((nowMicros() - start) / interval);
      while (index < due && this.running) {
        // Stamped with when it should have gone, however late the producer is.
        const intended = Math.round(start + index * interval);
        this.onLate?.(nowMicros() - intended);
        const n = this.dispatch(spec, intended);
        index += n;
      }
      if (this.inFlight > OPEN_LOOP_BACKLOG_LIMIT) {
        this.saturated = true;
        this.running = false;
        break;
      }
      // A timer, not a busy loop: an idle producer must not burn the CPU being measured.
      await sleep(1);
    }
  }

  private unit(pattern: Pattern): number {
    return pattern === 'batch16' || pattern === 'pipeline64' ? BATCH[pattern] : 1;
  }

  /** Sends the next unit (one message, a batch or a pipeline); returns how many messages. */
  private dispatch(spec: RunSpec, intended: number): number {
    const pattern = spec.pattern;
    if (pattern === 'batch16') {
      const session = this.nextSession(spec.sessions);
      const payloads = Array.from({ length: BATCH.batch16 }, () => this.payloadFor(session, intended));
      this.track(this.sink.sendMany?.(session, payloads), payloads.length, intended);
      return payloads.length;
    }
    if (pattern === 'pipeline64') {
      const items: Array<[number, string]> = [];
      for (let i = 0; i < BATCH.pipeline64; i++) {
        const session = this.nextSession(spec.sessions);
        items.push([session, this.payloadFor(session, intended)]);
      }
      this.track(this.sink.sendPipeline?.(items), items.length, intended);
      return items.length;
    }
    const session = this.nextSession(spec.sessions);
    this.track(this.sink.send(session, this.payloadFor(session, intended)), 1, intended);
    return 1;
  }

  private track(result: Promise<unknown> | undefined, count: number, intended: number): void {
    this.sent += count;
    if (!result) {
      this.acked += count;
      return;
    }
    this.inFlight += count;
    result.then(
      () => {
        this.inFlight -= count;
        this.acked += count;
        this.ackLatency.recordValueWithCount(Math.max(1, nowMicros() - intended), count);
        this.wakeUp();
      },
      (error: unknown) => {
        this.inFlight -= count;
        this.fail(error, count);
        this.wakeUp();
      },
    );
  }

  private nextSession(sessions: number): number {
    const session = this.cursor % sessions;
    this.cursor = (this.cursor + 1) % sessions;
    return session;
  }

  private fail(error: unknown, count = 1): void {
    this.errors += count;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }

  private waitForWake(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 5);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function noop(): void {
  // The outcome is counted by track(); the stream only waits for it.
}
