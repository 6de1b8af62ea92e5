/**
 * `npm run chaos`: the compose topology as local processes (HAProxy, 3 edges, 2 workers, the API,
 * Redis) under load from hundreds of sessions while a seeded schedule of faults runs, then the
 * books: nothing acknowledged may be lost, duplicated to an app or reordered, and every loss of
 * Redis data must reach the clients as a reset. See docs/reliability.md.
 *
 *   npm run chaos                                  # short profile (~2 min, CI): every fault once
 *   npm run chaos -- --seed 1234                   # replay a run
 *   npm run chaos -- --profile long --duration 30m
 *   npm run chaos -- --topology redis-cluster     # on a local Redis Cluster: master kills, slot moves
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createProducer } from '@holdfast/producer';
import { Random, waitFor } from '@holdfast/testing';
import { settle, failures } from './accounting.js';
import { ClientFleet, type ChaosClient, type ClientKind } from './clients.js';
import { healRedisCluster } from './cluster-faults.js';
import { startClusterTopology } from './cluster-topology.js';
import { factsOf, judgeCompletion, settleCompletions } from './completion-accounts.js';
import { CompletionDriver } from './completions.js';
import { FaultLog } from './fault-log.js';
import { injectFault } from './faults.js';
import { healRedisLinks } from './redis-link-faults.js';
import { formatCensus, takeInboxCensus, type InboxCensus } from './inbox-census.js';
import { SessionLedger } from './ledger.js';
import { describeLostInbound, formatLostInbound } from './lost-inbound.js';
import { runLossPhase, type LossWindow } from './loss-phases.js';
import { RssSampler } from './memory.js';
import { parseOptions, type ChaosOptions } from './options.js';
import { ProducerFleet } from './producers.js';
import { progressLine, startProgress, type ProgressSource } from './progress.js';
import { formatReport, replayCommand, resumeTimes, writeReport, type ChaosReport } from './report.js';
import { LOSS_KINDS, faultSchedule } from './schedule.js';
import { describeStuckSessions, formatStuckSession } from './stuck-sessions.js';
import { startTopology, type Topology } from './topology.js';

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const startedAt = Date.now();
  const random = new Random(options.seed);
  console.log(
    `chaos: profile ${options.profile}, topology ${options.topology}, seed ${options.seed}, ` +
      `${options.sessions} sessions, ` +
      `${Math.round(options.chaosMs / 1000)} s of faults${options.lossPhases ? ' + data-loss phases' : ''}`,
  );
  console.log(`chaos: replay with: ${replayCommand(options)}`);

  const workerEvents: WorkerEvents = { inboxRunsResubmitted: 0 };
  // Every service's log, next to the report: what a failed run's investigation starts from.
  await mkdir(dirname(options.reportPath), { recursive: true });
  const serviceLog = createWriteStream(join(dirname(options.reportPath), 'chaos-services.log'));
  const onLine = (name: string, line: string): void => {
    serviceLog.write(`${name} | ${line}\n`);
    // The workers say when their inbox sweep found an inbox run lost with Redis data.
    if (line.includes('orphaned inbox run re-submitted')) workerEvents.inboxRunsResubmitted++;
    if (options.verbose) console.log(`  ${name} | ${line}`);
  };
  const onCluster = options.topology === 'redis-cluster';
  console.log(
    `chaos: starting ${onCluster ? 'a Redis Cluster (3 masters + 3 replicas)' : 'Redis'}, ` +
      `3 edges, 2 workers, the API and HAProxy ...`,
  );
  const topology = await (onCluster ? startClusterTopology : startTopology)(onLine, {
    inboxSweep: options.inboxSweep,
  });
  const stopTopology = once(() => topology.stop());
  process.once('SIGINT', () => void stopTopology().finally(() => process.exit(130)));
  try {
    return await runLoad(options, topology, random, startedAt, workerEvents);
  } finally {
    await stopTopology();
    serviceLog.end();
  }
}

async function runLoad(
  options: ChaosOptions,
  topology: Topology,
  random: Random,
  startedAt: number,
  workerEvents: WorkerEvents,
): Promise<number> {
  const { cluster } = topology;
  console.log(
    `chaos: cluster up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (HAProxy ${cluster.haproxyUrl})`,
  );
  const producer = createProducer({
    redis: topology.redisUrl,
    keyPrefix: topology.keyPrefix,
    // Short, so a paused or stopped Redis turns into indeterminate appends that are retried.
    commandTimeoutMs: 2_000,
  });
  await producer.ready();

  const faults = new FaultLog();
  const fleet = new ClientFleet(faults, topology.issuer);
  const ledgers: SessionLedger[] = [];
  const kinds = clientKinds(options, random.fork(7));
  await Promise.all(
    kinds.map(async (_, i) => {
      const sessionId = `chaos-${options.seed}-${i}`;
      await producer.createSession({ sessionId });
      ledgers[i] = new SessionLedger(sessionId);
    }),
  );
  ledgers.forEach((ledger, i) => {
    const proxy = topology.clientProxies[i % topology.clientProxies.length]!;
    fleet.open(ledger, proxy.url(), kinds[i]!);
  });
  await waitFor(() => fleet.clients.every((c) => c.session.state === 'open'), {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: 'every client to connect',
  });
  console.log(
    `chaos: ${ledgers.length} sessions created and connected ` +
      `(${kinds.filter((k) => k === 'slow').length} slow, ${kinds.filter((k) => k === 'stalling').length} stalling)`,
  );

  const rss = new RssSampler(cluster.edges);
  rss.start();
  const progress: ProgressSource = { startedAt, phase: 'chaos', ledgers, faults, clients: fleet, rss };
  const stopProgress = startProgress(progress, options.progressEveryMs);
  const producers = new ProducerFleet(producer, options.publishEveryMs);
  producers.start(ledgers, random.fork(11));
  const completions = new CompletionDriver(producer, fleet.clients, random.fork(19), {
    share: options.completeShare,
    chaosMs: options.chaosMs,
  });
  completions.start();
  // Connected, or closed because its session completed (a completed client never reconnects).
  const settled = (c: ChaosClient): boolean =>
    c.session.state === 'open' ||
    (c.ledger.closed?.reason === 'session_completed' && completions.isCompleted(c.ledger.sessionId));
  fleet.startLoad(random.fork(13), options.sendEveryMs, Math.min(options.chaosMs, 40_000));

  const faultErrors: string[] = [];
  const recoveryFailures: string[] = [];
  const lossWindows: LossWindow[] = [];
  // A failover rotates the epoch of every session of the shard: each must reach clients as resets.
  const masterKills: number[] = [];
  try {
    // The chaos phase: faults one after another, every kind at least once.
    const schedule = faultSchedule(random.fork(17), options.faultGapMs, options.faultKinds);
    const chaosEnd = Date.now() + options.chaosMs;
    for (let fired = 0; Date.now() < chaosEnd || fired < options.faultKinds.length; fired++) {
      const plan = schedule.next().value!;
      // Completed sessions get no fresh messages: not measured.
      const measured = fleet.clients
        .filter((c) => c.kind !== 'stalling' && !completions.requests.has(c.ledger.sessionId))
        .map((c) => c.index);
      await new Promise((resolve) => setTimeout(resolve, plan.gapMs)); // the schedule's quiet time
      const seqOf = (client: number): number => fleet.clients[client]!.ledger.appends.size;
      const event = faults.begin(plan.kind, '', seqOf, measured);
      completions.faultRunning(plan.kind);
      try {
        Object.assign(event, {
          detail: await injectFault(topology, plan.kind, plan.target, options.blackholeLink),
        });
        faults.end(event);
        if (plan.kind.startsWith('master_kill')) masterKills.push(event.startedAt);
      } catch (error) {
        faults.end(event, error);
        faultErrors.push(`${plan.kind}: ${event.error}`);
        await heal(topology);
      }
      completions.faultRunning(undefined);
      completions.afterFault(plan.kind);
      console.log(
        `  fault ${fired + 1} ${plan.kind} (${event.endedAt! - event.startedAt} ms): ${event.error ?? event.detail}`,
      );
      // Every client back before the next fault: resume times stay attributable, and a client
      // that never comes back is a finding, not noise.
      const back = await waitFor(() => fleet.clients.every(settled), {
        timeoutMs: RECOVERY_TIMEOUT_MS,
        intervalMs: 100,
      }).catch(() => false);
      if (!back) {
        const stuck = fleet.clients.filter((c) => !settled(c));
        recoveryFailures.push(
          `${stuck.length} clients not open ${RECOVERY_TIMEOUT_MS} ms after ${plan.kind} ` +
            `(${stuck
              .slice(0, 3)
              .map((c) => `${c.ledger.sessionId}: ${c.history.join(' > ')}`)
              .join('; ')})`,
        );
      }
    }

    if (options.lossPhases) {
      for (const kind of LOSS_KINDS) {
        progress.phase = kind.replace('redis_loss_', 'loss:');
        try {
          const window = await runLossPhase(topology, faults, kind, () => completions.atRisk(kind));
          lossWindows.push(window);
          console.log(`  ${kind} (${window.endedAt - window.startedAt} ms): ${window.detail}`);
        } catch (error) {
          faultErrors.push(`${kind}: ${(error as Error).message}`);
          await heal(topology);
        }
      }
    }

    // Every completion acknowledged (and, after data loss, looked up again).
    progress.phase = 'complete';
    // A master kill can lose an acknowledged completion too (asynchronous replication).
    if (options.lossPhases || masterKills.length > 0) await completions.recheckAfterLoss();
    else await completions.settle();

    // Load stops; every session must drain to its head.
    progress.phase = 'drain';
    console.log(progressLine(progress));
    await Promise.all([producers.stop(), fleet.stopLoad()]);
    const sessionIds = ledgers.map((l) => l.sessionId);
    const census = (): Promise<InboxCensus> =>
      takeInboxCensus(topology.redisUrl, topology.keyPrefix, sessionIds, topology.inboundQueues);
    const inboxesAtDrainStart = await census();
    console.log(`chaos: inboxes as the drain starts: ${formatCensus(inboxesAtDrainStart)}`);
    const undrained = await drain(ledgers, fleet, producer, options.drainTimeoutMs, (id) =>
      completions.isCompleted(id),
    );
    // Before anything else changes: what the stuck clients and their logs look like now.
    const stuck = await describeStuckSessions(
      fleet.clients,
      new Set(undrained),
      topology.redisUrl,
      topology.keyPrefix,
    );
    for (const s of stuck) console.log(`chaos: not drained: ${formatStuckSession(s)}`);
    const inboxesAtEnd = await census();
    console.log(`chaos: inboxes at the end: ${formatCensus(inboxesAtEnd)}`);
    stopProgress();
    rss.stop();
    await rss.sample();

    const accounts = settle(ledgers, undrained, (id) => completions.isCompleted(id));
    const lostInbound = await describeLostInbound(
      ledgers,
      accounts.lostInbound,
      topology.redisUrl,
      topology.keyPrefix,
      topology.inboundQueues,
    );
    for (const l of lostInbound) console.log(`chaos: inbound lost: ${formatLostInbound(l)}`);
    const completionAccounts = settleCompletions(
      ledgers.flatMap((ledger) => {
        const request = completions.requests.get(ledger.sessionId);
        if (!request) return [];
        const answered = (id: string): boolean => ledger.inboundOutcome(id).completions > 0;
        return [{ request, verdict: judgeCompletion(request, factsOf(ledger), answered) }];
      }),
    );
    const unsurfaced = lossWindows.flatMap((w) => {
      const resets = ledgers.reduce((n, l) => n + l.resets.filter((r) => r.at >= w.crashedAt).length, 0);
      return resets === 0 ? [`${w.kind}: Redis lost data but no client got a reset`] : [];
    });
    for (const killedAt of masterKills) {
      const resets = ledgers.reduce((n, l) => n + l.resets.filter((r) => r.at >= killedAt).length, 0);
      if (resets === 0) unsurfaced.push('master_kill: a shard failed over but no client got a reset');
    }
    const stuckInboxes = inboxesAtEnd.orphaned + inboxesAtEnd.unscheduled;
    const failed = [
      ...failures(accounts, faultErrors, unsurfaced),
      ...completionFailures(completionAccounts),
      ...recoveryFailures,
      ...(stuckInboxes > 0
        ? [
            `${stuckInboxes} inboxes hold messages no inbox run job will run (${inboxesAtEnd.examples.join('; ')})`,
          ]
        : []),
    ];
    const faultCounts: Record<string, number> = {};
    for (const event of faults.events) faultCounts[event.kind] = (faultCounts[event.kind] ?? 0) + 1;
    const report: ChaosReport = {
      command: replayCommand(options),
      seed: options.seed,
      profile: options.profile,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Date.now() - startedAt,
      sessions: ledgers.length,
      passed: failed.length === 0,
      failures: failed,
      accounts,
      completions: completionAccounts,
      completionRequests: [...completions.requests.values()],
      faults: faults.events.map((e) => ({
        ...e,
        durationMs: e.endedAt === undefined ? undefined : e.endedAt - e.startedAt,
      })),
      faultCounts,
      resumeMs: resumeTimes(faults),
      edgePeakRssBytes: Object.fromEntries(rss.peakBytes),
      inboxes: {
        atDrainStart: inboxesAtDrainStart,
        atEnd: inboxesAtEnd,
        inboxRunsResubmitted: workerEvents.inboxRunsResubmitted,
      },
      producer: producers.stats,
      clients: fleet.stats,
      stuck,
      lostInbound,
    };
    console.log(formatReport(report));
    await writeReport(options.reportPath, report);
    console.log(`report: ${options.reportPath}`);
    return report.passed ? 0 : 1;
  } finally {
    stopProgress();
    rss.stop();
    await fleet.closeAll();
    await producer.close();
  }
}

/** A completion that broke a promise fails the run. */
function completionFailures(c: ReturnType<typeof settleCompletions>): string[] {
  if (c.failed === 0) return [];
  return [`${c.failed} of ${c.requested} completions broke a promise (${c.problems.slice(0, 3).join('; ')})`];
}

/** What the run learns from the workers' log lines. */
interface WorkerEvents {
  /** Inbox runs the workers' inbox sweep found lost (with Redis data) and submitted again. */
  inboxRunsResubmitted: number;
}

/** After a fault ends, every client must be connected again within this long. */
const RECOVERY_TIMEOUT_MS = 30_000;

/** Which clients are slow or stall: fixed by the seed. */
function clientKinds(options: ChaosOptions, random: Random): ClientKind[] {
  return Array.from({ length: options.sessions }, () => {
    const r = random.next();
    if (r < options.stallShare) return 'stalling';
    if (r < options.stallShare + options.slowShare) return 'slow';
    return 'normal';
  });
}

/**
 * Waits until every client's app has handled its session's head, emptied its outbox and got an
 * answer (or dead letter) for every acknowledged send; returns the sessions that did not.
 */
/** No new answer for this long: the workers have answered everything they still have. */
const QUIET_MS = 3_000;

async function drain(
  ledgers: readonly SessionLedger[],
  fleet: ClientFleet,
  producer: ReturnType<typeof createProducer>,
  timeoutMs: number,
  isCompleted: (sessionId: string) => boolean,
): Promise<string[]> {
  const pending = new Set(ledgers.map((_, i) => i));
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0 && Date.now() < deadline) {
    await Promise.all(
      [...pending].map(async (i) => {
        const ledger = ledgers[i]!;
        const client = fleet.clients[i]!;
        // A completed session is drained once its client closed on `complete` (whether it got
        // everything is the completion accounting's check); its unanswered prompts never will be.
        if (isCompleted(ledger.sessionId)) {
          if (ledger.closed?.reason === 'session_completed') pending.delete(i);
          return;
        }
        if (client.session.pendingSends > 0) return;
        // A send acknowledged before a reset may have been lost with Redis's data (counted as
        // surfaced); waiting for its answer would wait forever. Later ones must be answered.
        const lastReset = ledger.resets.at(-1)?.at ?? 0;
        for (const send of ledger.sends.values()) {
          if (!send.acked || (send.ackedAt ?? 0) <= lastReset) continue;
          const outcome = ledger.inboundOutcome(send.id);
          if (outcome.completions === 0 && !outcome.errored) return;
        }
        const info = await producer.info(ledger.sessionId).catch(() => undefined);
        const position = ledger.position;
        if (info && position && position.epoch === info.epoch && position.offset >= info.head)
          pending.delete(i);
        if (info && !position && info.head === 0) pending.delete(i);
      }),
    );
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500)); // poll pace
  }
  if (pending.size > 0) {
    console.log(`chaos: ${pending.size} sessions not drained after ${timeoutMs} ms`);
    // Where each one stands, to start the investigation from.
    for (const i of [...pending].slice(0, 5)) {
      const ledger = ledgers[i]!;
      const info = await producer.info(ledger.sessionId).catch((error: Error) => error.message);
      const head = typeof info === 'string' ? info : `${info.epoch}:${info.head}`;
      const at = ledger.position ? `${ledger.position.epoch}:${ledger.position.offset}` : 'none';
      console.log(
        `  ${ledger.sessionId}: app at ${at}, log head ${head}, client ${fleet.clients[i]!.session.state}, ` +
          `pending sends ${fleet.clients[i]!.session.pendingSends}; ${fleet.clients[i]!.history.join(' > ')}`,
      );
    }
  }
  // Answers to sends made before a reset may still come (not every one was lost): wait until
  // they stop coming, so only the ones really lost count as lost.
  const answered = (): number =>
    ledgers.reduce(
      (n, l) => n + [...l.sends.keys()].filter((id) => l.inboundOutcome(id).completions > 0).length,
      0,
    );
  let last = answered();
  let quietSince = Date.now();
  while (Date.now() - quietSince < QUIET_MS && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500)); // poll pace
    const now = answered();
    if (now !== last) [last, quietSince] = [now, Date.now()];
  }
  return [...pending].map((i) => ledgers[i]!.sessionId);
}

/** After a fault that failed half-way: every process running again, every link restored. */
async function heal(topology: Topology): Promise<void> {
  for (const proxy of topology.clientProxies) proxy.restore();
  healRedisLinks(topology);
  const { redis, redisCluster } = topology;
  if (redisCluster) await healRedisCluster(redisCluster);
  if (redis && !redis.running) await redis.start().catch(() => undefined);
  else await redis?.freeze(false).catch(() => undefined);
  for (const p of [...topology.cluster.edges, ...topology.cluster.workers]) {
    p.signal('SIGCONT');
    if (!p.running) await p.restart().catch(() => undefined);
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('chaos: the run itself failed:', error);
    process.exit(2);
  },
);
