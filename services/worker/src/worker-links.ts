import type { Worker } from 'bullmq';
import { RedisLinkProbe, type LinkProbeOptions, type ProbedConnection } from '@holdfast/session-log';
import type { WorkerLog } from './worker-log.js';

/**
 * Liveness of the worker's Redis links (issue 14). Probed: each BullMQ worker's command
 * connection (one worker per inbound queue) and the dead-letter connection (the session log probes its own). BullMQ's blocking connection sits in
 * BZPOPMIN and answers nothing while it waits, so a PING on it would miss even on a healthy
 * link: instead, when the command connection is declared dead, the blocking one is dropped too
 * (it goes to the same Redis, over the same network). Each reconnects; BullMQ's loop retries
 * its fetch and takes jobs again once Redis answers.
 */
export class WorkerLinks {
  private readonly probes: RedisLinkProbe[] = [];
  private stopped = false;
  private down = false;

  constructor(
    workers: readonly Worker[],
    deadLetters: ProbedConnection,
    private readonly options: LinkProbeOptions,
    private readonly report: WorkerLog,
  ) {
    this.add(deadLetters);
    for (const worker of workers) this.watch(worker);
  }

  private watch(worker: Worker): void {
    // `blockingConnection` is private in BullMQ's types; it has been there since v2.
    const blocking = (worker as unknown as { blockingConnection?: { client: Promise<ProbedConnection> } })
      .blockingConnection?.client;
    void Promise.all([worker.client, blocking]).then(
      ([client, blockingClient]) => {
        this.add(client as unknown as ProbedConnection, () => {
          blockingClient?.disconnect(true);
        });
      },
      () => undefined,
    );
    void worker.client.then(
      (client) => {
        (client as unknown as ProbedConnection).on('ready', () => this.up());
      },
      () => undefined,
    );
  }

  stop(): void {
    this.stopped = true;
    for (const probe of this.probes) probe.stop();
  }

  private add(connection: ProbedConnection, alsoDrop: () => void = () => undefined): void {
    if (this.stopped) return;
    this.probes.push(
      new RedisLinkProbe(connection, this.options, () => {
        this.down = true;
        this.report('warn', 'redis link dead: reconnecting', {});
        alsoDrop();
      }),
    );
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.report('info', 'redis link back', {});
  }
}
