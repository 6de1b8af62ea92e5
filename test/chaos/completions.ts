import { HoldfastError } from '@holdfast/protocol';
import type { Producer } from '@holdfast/producer';
import type { ChaosClient } from './clients.js';
import type { CompletionMoment, CompletionRequest } from './completion-accounts.js';
import type { Random } from '@holdfast/testing';
import { sleep } from './sleep.js';

export interface CompletionOptions {
  /** Share of the sessions the run completes. */
  readonly share: number;
  /** How long the chaos phase runs: random-time completions fall inside it. */
  readonly chaosMs: number;
}

/** Of the sessions to complete: this share at random times, the rest right after faults … */
const RANDOM_TIME_SHARE = 0.4;
/** … except these, completed in each data-loss phase's lossy window (Redis may lose them). */
const AT_RISK_PER_LOSS_PHASE = 2;
const LOSS_PHASES = 2;
/** Completions asked for right after each fault. */
const PER_FAULT = 1;
/** Random-time completions fall between these shares of the chaos phase. */
const RANDOM_WINDOW = [0.1, 0.85] as const;
/** A completion still failing this long (Redis down) is given up: a failure of the run. */
const GIVE_UP_AFTER_MS = 60_000;

/**
 * Completes a share of the chaos run's sessions from the producer side, as a back end ends a
 * conversation: some at random times (the client connected, or away when a fault holds it),
 * some right after a fault ends (clients still reconnecting), and a few in the data-loss phases'
 * lossy windows, where Redis may lose the completion itself. The session's producer loop keeps
 * appending until an append is refused, so appends race with the completion.
 *
 * Each completion is retried until acknowledged (it is idempotent), and after the data-loss
 * phases every acknowledged completion is looked up again: one Redis lost is recorded and
 * completed again, for completion-accounts.ts to check.
 */
export class CompletionDriver {
  readonly requests = new Map<string, CompletionRequest>();
  readonly #randomTime: ChaosClient[];
  readonly #afterFault: ChaosClient[];
  readonly #atRisk: ChaosClient[];
  readonly #timers: Array<ReturnType<typeof setTimeout>> = [];
  readonly #inFlight: Array<Promise<void>> = [];
  #currentFault: string | undefined;

  constructor(
    private readonly producer: Producer,
    clients: readonly ChaosClient[],
    private readonly random: Random,
    private readonly options: CompletionOptions,
  ) {
    const chosen = random.shuffle(clients).slice(0, Math.round(clients.length * options.share));
    const atRisk = Math.min(chosen.length, AT_RISK_PER_LOSS_PHASE * LOSS_PHASES);
    const randomTime = Math.round((chosen.length - atRisk) * RANDOM_TIME_SHARE);
    this.#atRisk = chosen.slice(0, atRisk);
    this.#randomTime = chosen.slice(atRisk, atRisk + randomTime);
    this.#afterFault = chosen.slice(atRisk + randomTime);
  }

  /** Schedules the random-time completions over the chaos phase. */
  start(): void {
    const [from, to] = RANDOM_WINDOW.map((share) => Math.round(share * this.options.chaosMs)) as [
      number,
      number,
    ];
    for (const client of this.#randomTime) {
      const timer = setTimeout(
        () => {
          this.#request(client, client.session.state === 'open' ? 'connected' : 'away');
        },
        this.random.int(from, to),
      );
      this.#timers.push(timer);
    }
  }

  /** A fault is running (completions then record it), or none (undefined). */
  faultRunning(kind: string | undefined): void {
    this.#currentFault = kind;
  }

  /**
   * A fault just ended, before its clients are back: completes the next session(s) of the
   * after-fault share, preferring one whose client is disconnected or reconnecting now.
   */
  afterFault(kind: string): void {
    for (let n = 0; n < PER_FAULT && this.#afterFault.length > 0; n++) {
      const away = this.#afterFault.findIndex((c) => c.session.state !== 'open');
      const [client] = this.#afterFault.splice(away >= 0 ? away : 0, 1);
      this.#request(client!, 'after_fault', kind);
    }
  }

  /** A data-loss phase's lossy window opened: what is written from now on may be lost. */
  atRisk(kind: string): void {
    for (const client of this.#atRisk.splice(0, AT_RISK_PER_LOSS_PHASE)) {
      this.#request(client, 'at_risk', kind);
    }
  }

  /** Sessions whose completion Redis acknowledged. */
  isCompleted(sessionId: string): boolean {
    return (this.requests.get(sessionId)?.acks.length ?? 0) > 0;
  }

  /** Resolves once every completion asked for was acknowledged or given up. */
  async settle(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    // Sessions of the after-fault share that no fault reached are completed now (the drain).
    for (const client of [...this.#afterFault.splice(0), ...this.#atRisk.splice(0)]) {
      this.#request(client, client.session.state === 'open' ? 'connected' : 'away');
    }
    while (this.#inFlight.length > 0) await Promise.all(this.#inFlight.splice(0));
  }

  /**
   * After the data-loss phases: every acknowledged completion must still be there. One that
   * Redis lost (the session is not completed, or is gone) is recorded and completed again, as a
   * back end that checks its completions would, so its client still gets `complete`.
   */
  async recheckAfterLoss(): Promise<void> {
    await this.settle();
    await Promise.all(
      [...this.requests.values()].map(async (request) => {
        if (request.acks.length === 0) return;
        let detail: string;
        try {
          const info = await this.#withRetries(() => this.producer.info(request.sessionId));
          if (info.completedAt !== undefined) return;
          detail = `not completed in epoch ${info.epoch} (head ${info.head})`;
        } catch (error) {
          detail = `lookup failed: ${(error as Error).message}`;
        }
        request.lostToRedis.push({ at: Date.now(), detail });
        await this.#complete(request);
      }),
    );
  }

  #request(client: ChaosClient, moment: CompletionMoment, fault = this.#currentFault): void {
    const sessionId = client.ledger.sessionId;
    if (this.requests.has(sessionId)) return;
    const request: CompletionRequest = {
      sessionId,
      moment,
      clientState: client.session.state,
      fault,
      requestedAt: Date.now(),
      attempts: 0,
      errorsByCode: {},
      acks: [],
      lostToRedis: [],
      gaveUp: false,
    };
    this.requests.set(sessionId, request);
    this.#inFlight.push(this.#complete(request));
  }

  /** Completes until acknowledged (idempotent, so an indeterminate attempt is simply retried). */
  async #complete(request: CompletionRequest): Promise<void> {
    const started = Date.now();
    for (let backoff = 100; ; backoff = Math.min(1_000, backoff * 2)) {
      request.attempts++;
      try {
        const done = await this.producer.completeSession(request.sessionId);
        request.acks.push({ epoch: done.epoch, finalOffset: done.finalOffset, at: Date.now() });
        return;
      } catch (error) {
        const code = error instanceof HoldfastError ? error.code : 'error';
        request.errorsByCode[code] = (request.errorsByCode[code] ?? 0) + 1;
        if (Date.now() - started > GIVE_UP_AFTER_MS) {
          request.gaveUp = true;
          return;
        }
        await sleep(backoff);
      }
    }
  }

  async #withRetries<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (attempt >= 10 || (error instanceof HoldfastError && error.code === 'session_not_found'))
          throw error;
        await sleep(500);
      }
    }
  }
}
