import { HoldfastError } from '@holdfast/protocol';
import type { Producer } from '@holdfast/producer';
import { checksum, type ProducedData, type SessionLedger } from './ledger.js';
import type { Random } from '@holdfast/testing';
import { sleep } from './sleep.js';

// Codes after which the same append can never succeed: recorded, not retried.
// `session_completed`: the completions (completions.ts) ended the session; the loop stops there.
const FINAL_CODES = new Set([
  'session_not_found',
  'session_ended',
  'session_completed',
  'invalid_payload',
  'payload_too_large',
]);
/** A producer still retrying this long after load stopped gives up; its append stays indeterminate. */
const GIVE_UP_AFTER_STOP_MS = 30_000;

export interface ProducerStats {
  attempts: number;
  failedAttempts: number;
  errorsByCode: Record<string, number>;
  refused: number;
}

/**
 * One producer loop per session, through the producer library: append `{ k, s, h }` with the
 * key as message id, wait for the answer, and on any failure (timeout, Redis down) retry with
 * the same id until it is acknowledged. An append is `acked` once an attempt succeeded;
 * `indeterminate` while only failed attempts exist (it may or may not be in the log).
 */
export class ProducerFleet {
  readonly stats: ProducerStats = { attempts: 0, failedAttempts: 0, errorsByCode: {}, refused: 0 };
  #running = true;
  #stoppedAt = 0;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly producer: Producer,
    private readonly everyMs: number,
  ) {}

  start(ledgers: readonly SessionLedger[], random: Random): void {
    this.#loops = ledgers.map((ledger, i) => this.#loop(ledger, random.fork(i)));
  }

  /** Stops new appends; resolves once every append in flight was acknowledged or given up. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stoppedAt = Date.now();
    await Promise.all(this.#loops);
  }

  async #loop(ledger: SessionLedger, random: Random): Promise<void> {
    await sleep(random.int(0, this.everyMs)); // spread the sessions over the interval
    for (let seq = 1; this.#running; seq++) {
      const key = `${ledger.sessionId}.${seq}`;
      const data: ProducedData = { k: key, s: seq, h: checksum(key) };
      const record = { key, seq, state: 'pending' as const, failedAttempts: 0, duplicateAck: false };
      ledger.appends.set(key, record);
      const done = await this.#appendUntilAcked(ledger, data);
      if (done === 'refused') return;
      await sleep(random.int(this.everyMs / 2, (this.everyMs * 3) / 2));
    }
  }

  async #appendUntilAcked(
    ledger: SessionLedger,
    data: ProducedData,
  ): Promise<'acked' | 'refused' | 'gave_up'> {
    const record = ledger.appends.get(data.k)!;
    for (let backoff = 100; ; backoff = Math.min(1_000, backoff * 2)) {
      this.stats.attempts++;
      try {
        const result = await this.producer.publish(ledger.sessionId, data, { id: data.k });
        Object.assign(record, {
          state: 'acked',
          epoch: result.epoch,
          offset: result.offset,
          duplicateAck: result.duplicate,
          ackedAt: Date.now(),
        });
        return 'acked';
      } catch (error) {
        const code = error instanceof HoldfastError ? error.code : 'error';
        this.stats.failedAttempts++;
        this.stats.errorsByCode[code] = (this.stats.errorsByCode[code] ?? 0) + 1;
        record.failedAttempts++;
        record.state = 'indeterminate';
        if (FINAL_CODES.has(code)) {
          Object.assign(record, { refusedCode: code, refusedAt: Date.now() });
          this.stats.refused++;
          return 'refused';
        }
        if (!this.#running && Date.now() - this.#stoppedAt > GIVE_UP_AFTER_STOP_MS) return 'gave_up';
        await sleep(backoff);
      }
    }
  }
}
