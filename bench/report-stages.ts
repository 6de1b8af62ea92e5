import type { Row } from './results.js';

/** The stage table's rows, in the order a message passes them (names as the processes record them). */
const STAGES: ReadonlyArray<[string, string]> = [
  ['producer', 'intended → append call'],
  ['producer', 'append call → script sent'],
  ['producer', 'script sent → reply'],
  ['producer', 'reply → caller resolved'],
  ['producer', 'intended → append acknowledged'],
  ['edge', 'intended → edge notified'],
  ['edge', 'intended → frame written'],
  ['clients', 'intended → client handled'],
];
const PROCESSES = ['producer', 'edge', 'clients'] as const;

const ms = (n: number | undefined): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(2) : '–');

/** The benchmarks that can carry the stage trace, and what their columns are. */
const TRACED: ReadonlyArray<{ bench: string; column: (r: Row) => string }> = [
  { bench: 'unicast-latency', column: (r) => `${Number(r.params.rate).toLocaleString('en-US')}/s` },
  // Only with --trace-stages (the trace costs CPU the sustained-sessions figure needs).
  { bench: 'token-streams', column: (r) => `${Number(r.params.sessions).toLocaleString('en-US')} sessions` },
];

/** The stage tables of every traced benchmark in the run (Holdfast only), then the scheduling tables. */
export function stageTables(all: readonly Row[]): string {
  return [
    ...TRACED.map(({ bench, column }) => stageTable(bench, column, all)),
    ...TRACED.map(({ bench, column }) => schedTable(bench, column, all)),
  ]
    .filter((table) => table !== '')
    .join('\n\n');
}

/** The processes a scheduling table has a column for: each system has some of them. */
const SCHED_PROCESSES = ['server', 'producer', 'edge', 'redis', 'clients'] as const;

/**
 * Every peer of an open-loop benchmark: each process's CPU (% of one core) and how long its
 * main thread waited on a run queue for a core (ms per second of the window), medians over
 * repeats, with the whole machine's busy share. A message crosses every process of its system
 * in turn, so a system with more busy processes than cores waits in more queues per message:
 * the tail of its latency, with no process slow on its own.
 */
function schedTable(bench: string, column: (r: Row) => string, all: readonly Row[]): string {
  const rows = all.filter((r) => r.bench === bench && r.metrics['sched:machine:busyPct'] !== undefined);
  if (rows.length === 0) return '';
  const median = (r: Row, metric: string): number | undefined => r.metrics[metric]?.median;
  const cell = (r: Row, process: string): string => {
    const cpu = median(r, `sched:${process}:cpuPct`);
    if (cpu === undefined) return '';
    return `${cpu.toFixed(0)} % · ${ms(median(r, `sched:${process}:waitMsPerS`))}`;
  };
  const header = `| ${bench === 'unicast-latency' ? 'target' : 'sessions'} | peer | machine busy | ${SCHED_PROCESSES.join(' | ')} |`;
  const rule = `|---|---|---:|${SCHED_PROCESSES.map(() => '---:').join('|')}|`;
  const lines = rows.map(
    (r) =>
      `| ${column(r)} | ${r.peer} | ${(median(r, 'sched:machine:busyPct') ?? NaN).toFixed(0)} % | ${SCHED_PROCESSES.map((p) => cell(r, p)).join(' | ')} |`,
  );
  return [
    `### ${bench}: CPU per process (% of one core) · its main thread's run-queue wait (ms per s), medians`,
    '',
    header,
    rule,
    ...lines,
  ].join('\n');
}

/**
 * One benchmark, Holdfast only: where each message's time goes, per column (a rate or a
 * session count; medians over the repeats of each stage's p50 and p99), then each process's
 * event-loop delay and GC pauses. Stages named "intended → …" count from the message's
 * intended send time; the others are one step of the append (the producer's append trace).
 * Percentiles do not add up across rows.
 */
function stageTable(bench: string, column: (r: Row) => string, all: readonly Row[]): string {
  const rows = all.filter(
    (r) =>
      r.bench === bench &&
      r.peer === 'holdfast' &&
      Object.keys(r.metrics).some((k) => k.startsWith('stage:')),
  );
  if (rows.length === 0) return '';
  const median = (r: Row, metric: string): number | undefined => r.metrics[metric]?.median;
  const columns = rows.map(column);
  const header = `| process | stage | ${columns.map((c) => `${c} p50 | p99`).join(' | ')} |`;
  const rule = `|---|---|${columns.map(() => '---:|---:').join('|')}|`;
  const figure = (r: Row, stage: string, p: 'p50' | 'p99'): number | undefined => {
    if (stage === 'intended → append acknowledged') return median(r, p === 'p50' ? 'ackP50Ms' : 'ackP99Ms');
    if (stage === 'intended → client handled') return median(r, p === 'p50' ? 'p50Ms' : 'p99Ms');
    return median(r, `stage:${stage}:${p}Ms`);
  };
  const stageLines = STAGES.map(
    ([process, stage]) =>
      `| ${process} | ${stage} | ${rows.map((r) => `${ms(figure(r, stage, 'p50'))} | ${ms(figure(r, stage, 'p99'))}`).join(' | ')} |`,
  );
  const loopHeader = `| process | ${columns.map((c) => `${c} loop delay p50 / p99 / max | GC pauses (longest)`).join(' | ')} |`;
  const loopRule = `|---|${columns.map(() => '---:|---:').join('|')}|`;
  const loopLines = PROCESSES.map(
    (process) =>
      `| ${process} | ${rows
        .map((r) => {
          const m = (k: string): number | undefined => median(r, `loop:${process}:${k}`);
          return `${ms(m('delayP50Ms'))} / ${ms(m('delayP99Ms'))} / ${ms(m('delayMaxMs'))} | ${ms(m('gcPauses')).replace(/\.00$/, '')} (${ms(m('gcMaxMs'))})`;
        })
        .join(' | ')} |`,
  );
  return [
    `### ${bench} stages (holdfast): medians over repeats; ms`,
    '',
    header,
    rule,
    ...stageLines,
    '',
    'Event-loop delay (1 ms resolution) and GC pauses per process, in the measured window:',
    '',
    loopHeader,
    loopRule,
    ...loopLines,
  ].join('\n');
}
