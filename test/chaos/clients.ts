import { connect, exponentialBackoff, memoryStore, type HoldfastSession } from '@holdfast/client';
import type { TokenIssuer } from '@holdfast/auth';
import type { FaultLog } from './fault-log.js';
import type { SendRecord, SessionLedger } from './ledger.js';
import type { Random } from '@holdfast/testing';
import { sleep } from './sleep.js';

export type ClientKind = 'normal' | 'slow' | 'stalling';

export interface ChaosClient {
  readonly index: number;
  readonly kind: ClientKind;
  readonly ledger: SessionLedger;
  readonly session: HoldfastSession<unknown>;
  /** While set, the app's handler waits on it: the client stalls with messages in flight. */
  stall: Promise<void> | undefined;
  /** The last state changes, errors and resets, for the report on a client that did not come back. */
  readonly history: string[];
}

export interface ClientStats {
  errorsByCode: Record<string, number>;
  statesByReason: Record<string, number>;
  sendRejections: Record<string, number>;
  /** The first few messages of each error code, to investigate from. */
  errorExamples: Record<string, string[]>;
  stalls: number;
}

const SLOW_HANDLER_MS = 40;
/** State changes, errors and resets kept per client for the report on one that did not drain. */
const HISTORY_LENGTH = 16;

function remember(client: ChaosClient, what: string): void {
  client.history.push(`${new Date().toISOString().slice(11, 23)} ${what}`);
  if (client.history.length > HISTORY_LENGTH) client.history.shift();
}

/**
 * One SDK client per session, each through one of the client fault proxies (which forward to
 * HAProxy): the app handler records every message in the session's ledger before anything else,
 * then, for slow clients, takes its time, and for stalling ones, sometimes stops for a while.
 * Each client also sends inbound prompts, which the workers answer.
 */
export class ClientFleet {
  readonly clients: ChaosClient[] = [];
  readonly stats: ClientStats = {
    errorsByCode: {},
    statesByReason: {},
    sendRejections: {},
    errorExamples: {},
    stalls: 0,
  };
  #sending = false;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly faults: FaultLog,
    private readonly issuer: TokenIssuer,
  ) {}

  open(ledger: SessionLedger, url: string, kind: ClientKind): ChaosClient {
    const index = this.clients.length;
    const { sessionId } = ledger;
    const session = connect<unknown>(url, {
      sessionId,
      getToken: async () => (await this.issuer.issue({ sessionId, ttlSeconds: 3600 })).token,
      store: memoryStore(),
      // Fast reconnects (cap 1 s, not 30 s): resume times then measure Holdfast, not the backoff.
      retryStrategy: exponentialBackoff({ baseMs: 100, capMs: 1_000 }),
      socketOptions: { timeout: 3_000 },
    });
    const client: ChaosClient = { index, kind, ledger, session, stall: undefined, history: [] };
    session.on('message', async ({ epoch, offset, data }) => {
      const at = Date.now();
      ledger.onMessage(epoch, offset, data, at);
      const seq = (data as { s?: unknown }).s;
      if (typeof seq === 'number') this.faults.delivered(index, seq, at);
      if (kind === 'slow') await sleep(SLOW_HANDLER_MS);
      if (client.stall) await client.stall;
    });
    session.on('reset', (reset) => {
      ledger.onReset(reset, Date.now());
      remember(
        client,
        `reset:${reset.reason} ${reset.oldEpoch ?? '-'} -> ${reset.newEpoch}@${reset.resumeFrom}`,
      );
    });
    session.on('complete', (complete) => ledger.onComplete(complete, Date.now()));
    session.on('state', ({ state, reason }) => {
      ledger.onState(state, reason, Date.now());
      const key = `${state}${reason ? `:${reason}` : ''}`;
      this.stats.statesByReason[key] = (this.stats.statesByReason[key] ?? 0) + 1;
      remember(client, key);
      if (state === 'closed') {
        const examples = (this.stats.errorExamples[key] ??= []);
        if (examples.length < 5)
          examples.push(`${new Date().toISOString()} ${sessionId}: ${client.history.join(' > ')}`);
      }
      if (state === 'resuming') this.faults.clientLost(index, Date.now());
      if (state === 'open') this.faults.clientOpened(index, Date.now());
    });
    session.on('error', (error) => {
      remember(client, `error:${error.code} ${error.message.slice(0, 160)}`);
      this.stats.errorsByCode[error.code] = (this.stats.errorsByCode[error.code] ?? 0) + 1;
      const examples = (this.stats.errorExamples[error.code] ??= []);
      if (examples.length < 5) examples.push(`${new Date().toISOString()} ${sessionId}: ${error.message}`);
    });
    this.clients.push(client);
    return client;
  }

  /** Starts every client's inbound sends and the stalls of the stalling ones. */
  startLoad(random: Random, sendEveryMs: number, stallWindowMs: number): void {
    this.#sending = true;
    this.#loops = this.clients.flatMap((client) => {
      const rng = random.fork(client.index);
      const loops = [this.#sendLoop(client, rng, sendEveryMs)];
      if (client.kind === 'stalling') loops.push(this.#stallLoop(client, rng, stallWindowMs));
      return loops;
    });
  }

  /** Stops sending and stalling; resolves once every loop ended (sends may still be in outboxes). */
  async stopLoad(): Promise<void> {
    this.#sending = false;
    await Promise.all(this.#loops);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.session.close()));
  }

  async #sendLoop(client: ChaosClient, random: Random, everyMs: number): Promise<void> {
    await sleep(random.int(0, everyMs));
    for (let n = 1; this.#sending; n++) {
      // Keep the outbox short: during an outage new prompts wait instead of piling up.
      if (client.session.pendingSends < 3) {
        const id = `${client.ledger.sessionId}.m${n}`;
        // A completed (closed) session goes on sending: each send must reject with
        // `session_completed`, which the completion accounting checks.
        const record: SendRecord = { id, sentAt: Date.now(), acked: false, duplicateAck: false };
        client.ledger.sends.set(id, record);
        client.session.send({ text: id }, { id }).then(
          (result) =>
            Object.assign(record, { acked: true, ackedAt: Date.now(), duplicateAck: result.duplicate }),
          (error: { code?: string }) => {
            const code = error.code ?? 'error';
            Object.assign(record, { rejectedCode: code, rejectedAt: Date.now() });
            this.stats.sendRejections[code] = (this.stats.sendRejections[code] ?? 0) + 1;
          },
        );
      }
      await sleep(random.int(everyMs / 2, (everyMs * 3) / 2));
    }
  }

  /** Stops handling for 5–12 s at random moments, with messages in flight (flow control holds the rest). */
  async #stallLoop(client: ChaosClient, random: Random, windowMs: number): Promise<void> {
    while (this.#sending) {
      await sleep(random.int(windowMs / 4, windowMs / 2));
      if (!this.#sending) break;
      let release!: () => void;
      client.stall = new Promise((resolve) => (release = resolve));
      this.faults.exclude(client.index);
      this.stats.stalls++;
      const until = Date.now() + random.int(5_000, 12_000);
      while (this.#sending && Date.now() < until) await sleep(200);
      client.stall = undefined;
      release();
    }
  }
}
