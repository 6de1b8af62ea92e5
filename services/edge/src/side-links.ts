import { RedisLinkProbe, type LinkProbeOptions, type ProbedConnection } from '@holdfast/session-log';

/**
 * Liveness probes on the edge's other Redis connections: the Socket.IO adapter's pair and the
 * inbound queue's. Readiness follows the session log and the live subscriber; these are probed
 * only so that a silently dead socket is dropped and reconnected. Without it, after a partition
 * heals they would stay on a socket whose bytes were lost, and cross-edge replacement and inbox
 * drains would hang for good.
 */
export class SideLinkProbes {
  private readonly probes: RedisLinkProbe[] = [];
  private stopped = false;

  constructor(
    clients: readonly ProbedConnection[],
    pending: ReadonlyArray<Promise<ProbedConnection>>,
    private readonly options: LinkProbeOptions,
  ) {
    for (const client of clients) this.add(client);
    for (const connection of pending)
      void connection.then(
        (c) => this.add(c),
        () => undefined,
      );
  }

  stop(): void {
    this.stopped = true;
    for (const probe of this.probes) probe.stop();
  }

  private add(connection: ProbedConnection): void {
    if (this.stopped) return;
    this.probes.push(new RedisLinkProbe(connection, this.options));
  }
}
