import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import type { Accounts } from './accounting.js';
import type { CompletionAccounts, CompletionRequest } from './completion-accounts.js';
import type { FaultEvent, FaultLog } from './fault-log.js';
import { formatCensus, type InboxCensus } from './inbox-census.js';
import { defaultFaultKinds, type ChaosOptions } from './options.js';
import type { LostInbound } from './lost-inbound.js';
import type { StuckSession } from './stuck-sessions.js';

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ChaosReport {
  command: string;
  seed: number;
  profile: string;
  startedAt: string;
  durationMs: number;
  sessions: number;
  passed: boolean;
  failures: string[];
  accounts: Accounts;
  completions: CompletionAccounts;
  /** Every completion the run asked for, as completions.ts recorded it. */
  completionRequests: CompletionRequest[];
  faults: Array<FaultEvent & { durationMs: number | undefined }>;
  faultCounts: Record<string, number>;
  resumeMs: Record<string, { reconnect?: LatencySummary; fresh?: LatencySummary }>;
  edgePeakRssBytes: Record<string, number>;
  /** Backlog or orphaned: the inboxes when load stopped and after the drain. */
  inboxes: { atDrainStart: InboxCensus; atEnd: InboxCensus; inboxRunsResubmitted: number };
  producer: unknown;
  clients: unknown;
  /** Each session that did not drain: its client's state and its log's, at the end. */
  stuck: StuckSession[];
  /** Each acknowledged inbound message never answered (the first few): its inbox, job and log entries. */
  lostInbound: LostInbound[];
}

export function summarize(histogram: Histogram | undefined): LatencySummary | undefined {
  if (!histogram || histogram.totalCount === 0) return undefined;
  return {
    n: histogram.totalCount,
    p50: histogram.getValueAtPercentile(50),
    p99: histogram.getValueAtPercentile(99),
    max: histogram.maxValue,
  };
}

export function resumeTimes(faults: FaultLog): ChaosReport['resumeMs'] {
  const kinds = new Set([...faults.events.map((e) => e.kind)]);
  const out: ChaosReport['resumeMs'] = {};
  for (const kind of kinds) {
    const reconnect = summarize(faults.reconnect.get(kind));
    const fresh = summarize(faults.fresh.get(kind));
    out[kind] = { ...(reconnect ? { reconnect } : {}), ...(fresh ? { fresh } : {}) };
  }
  return out;
}

export function replayCommand(options: ChaosOptions): string {
  const parts = ['npm run chaos --', `--profile ${options.profile}`, `--seed ${options.seed}`];
  if (options.topology !== 'standalone') parts.push(`--topology ${options.topology}`);
  const defaultMs = options.profile === 'short' ? 45_000 : 30 * 60_000;
  if (options.chaosMs !== defaultMs) parts.push(`--duration ${Math.round(options.chaosMs / 1000)}s`);
  if (options.faultKinds.length < defaultFaultKinds(options.topology).length)
    parts.push(`--faults ${options.faultKinds.join(',')}`);
  if (options.sessions !== (options.profile === 'short' ? 200 : 300))
    parts.push(`--sessions ${options.sessions}`);
  if (options.blackholeLink !== 'any') parts.push(`--blackhole-link ${options.blackholeLink}`);
  if (options.completeShare !== 0.15) parts.push(`--complete-share ${options.completeShare}`);
  if (!options.lossPhases && options.topology === 'standalone') parts.push('--no-loss-phases');
  if (!options.inboxSweep) parts.push('--no-inbox-sweep');
  return parts.join(' ');
}

export async function writeReport(path: string, report: ChaosReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

/** The human-readable summary: the figures first, then resume times, then the verdict. */
export function formatReport(r: ChaosReport): string {
  const a = r.accounts;
  const c = r.completions;
  const n = (value: number): string => value.toLocaleString('en-US');
  const rows: Array<[string, string]> = [
    ['sessions', n(r.sessions)],
    [
      'faults injected',
      Object.entries(r.faultCounts)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', '),
    ],
    ['appends attempted', n(a.appends.attempted)],
    [
      'appends acknowledged',
      `${n(a.appends.acknowledged)} (after a retry: ${n(a.appends.acknowledgedAfterRetry)}, of them already written: ${n(a.appends.acknowledgedAsDuplicate)})`,
    ],
    [
      'appends indeterminate',
      `${n(a.appends.indeterminate)} (refused by a completion: ${n(a.appends.refusedByCompletion)})`,
    ],
    ['LOST (acknowledged, never delivered)', n(a.appends.lost)],
    ['lost by Redis and surfaced as reset', n(a.appends.lostSurfaced)],
    ['messages delivered to apps', n(a.delivered.messages)],
    ['DUPLICATES delivered to the app', n(a.delivered.duplicates)],
    ['REORDERS (or gaps)', n(a.delivered.reorders)],
    ['UNEXPECTED messages', n(a.delivered.unexpected)],
    ['inbound sent / acknowledged', `${n(a.inbound.sent)} / ${n(a.inbound.acknowledged)}`],
    ['inbound processed (complete reply)', n(a.inbound.processed)],
    ['INBOUND LOST / PROCESSED TWICE', `${n(a.inbound.lost)} / ${n(a.inbound.processedTwice)}`],
    ['inbound lost by Redis after a reset', n(a.inbound.lostSurfaced)],
    ['inbound answered after an aborted attempt', n(a.inbound.answeredAfterAbort)],
    ['inbound dead-lettered', n(a.inbound.deadLettered)],
    ['inbound unanswered, session completed first', n(a.inbound.cutByCompletion)],
    [
      'completions requested',
      `${n(c.requested)} ${JSON.stringify(c.byMoment)} (failed attempts, retried: ${n(c.failedAttempts)})`,
    ],
    ['completions acknowledged', n(c.acknowledged)],
    ['completions delivered to the app', n(c.deliveredToApp)],
    ['COMPLETIONS FAILED', n(c.failed)],
    ['completions lost by Redis, completed again', n(c.lostToRedis)],
    [
      'completion races',
      `${n(c.appendsRefused)} appends refused, ${n(c.tailEntries)} entries after the last acknowledged append, ` +
        `${n(c.sendsRejected)} sends rejected, ${n(c.sendsUnanswered)} sends unanswered`,
    ],
    [
      'resets',
      `${n(a.resets.total)} in ${n(a.resets.sessions)} sessions ${JSON.stringify(a.resets.byReason)}`,
    ],
    ['inboxes when load stopped', formatCensus(r.inboxes.atDrainStart)],
    ['inboxes at the end', formatCensus(r.inboxes.atEnd)],
    ['orphaned inbox runs re-submitted by workers', n(r.inboxes.inboxRunsResubmitted)],
    ['sessions not drained', n(a.undrained.length)],
    [
      'edge peak RSS',
      Object.entries(r.edgePeakRssBytes)
        .map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(0)} MiB`)
        .join(', '),
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);

  const fmt = (s: LatencySummary | undefined): string =>
    s
      ? `${String(s.p50).padStart(6)} ${String(s.p99).padStart(6)} ${String(s.n).padStart(5)}`
      : `${'-'.padStart(6)} ${'-'.padStart(6)} ${'0'.padStart(5)}`;
  const kinds = Object.keys(r.resumeMs);
  const kindWidth = Math.max(10, ...kinds.map((k) => k.length));
  const resume = [
    `  ${'resume (ms)'.padEnd(kindWidth)}  ${'reconnect: p50    p99     n'}   ${'fresh message: p50    p99     n'}`,
    ...kinds.map(
      (k) =>
        `  ${k.padEnd(kindWidth)}             ${fmt(r.resumeMs[k]?.reconnect)}                  ${fmt(r.resumeMs[k]?.fresh)}`,
    ),
  ];
  const verdict = r.passed
    ? `PASS: nothing acknowledged lost, duplicated or reordered; every Redis data loss surfaced as a reset; every completion delivered after everything before it`
    : `FAIL:\n${r.failures.map((f) => `  - ${f}`).join('\n')}`;
  const all = [...a.examples, ...c.problems.slice(0, 10)];
  const examples = all.length > 0 ? `\nexamples:\n${all.map((e) => `  ${e}`).join('\n')}` : '';
  return [
    `\nchaos report (${r.profile}, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(0)} s)`,
    ...lines,
    '',
    ...resume,
    examples,
    '',
    verdict,
    `replay: ${r.command}`,
  ].join('\n');
}
