import type { Summary } from './lib/stats.js';
import { sustains, TOKEN_STREAMS_P99_LIMIT_MS } from './benchmarks/token-streams.js';
import { stageTables } from './report-stages.js';
import type { Row, SuiteResult } from './results.js';

/**
 * The suite's tables, as Markdown (readable in a terminal, pasted as is into
 * docs/benchmarks.md): medians with the range over repeats, and ratios to the peers compared
 * like with like (same benchmark, same condition).
 */
export function formatTables(result: SuiteResult): string {
  const sections = [
    header(result),
    unicastMaxTable(result.rows),
    latencyTable(result.rows),
    stageTables(result.rows),
    tokenStreamsTable(result.rows),
    resumeTable(result.rows),
    slowConsumerTable(result.rows),
    idleTable(result.rows),
    persistTable(result.rows),
  ].filter((s) => s !== '');
  return sections.join('\n\n');
}

/** What the figures depend on besides the code: the clients' kind and how busy the machine was. */
function header(result: SuiteResult): string {
  const { machine } = result;
  return [
    `${result.profile} profile · ${result.command}`,
    `load clients: ${result.loadClient ?? 'socket.io-client'} (every system) · Holdfast ${result.code ?? 'compiled'}` +
      ` · ${machine.cpus} CPUs, load average ${machine.loadAverageAtStart} at start, ${machine.loadAverageAtEnd ?? '?'} at end`,
  ].join('\n');
}

function table(title: string, header: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i < 2 ? '-'.repeat(w) : `${'-'.repeat(Math.max(1, w - 1))}:`)).join(' | ')} |`;
  return [`### ${title}`, '', line(header), rule, ...rows.map(line)].join('\n');
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fixed = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** "median (min–max)" when there were several runs. */
function spread(m: Summary | undefined, format: (n: number) => string = int): string {
  if (!m) return '–';
  if (m.runs.length <= 1 || m.min === m.max) return format(m.median);
  return `${format(m.median)} (${format(m.min)}–${format(m.max)})`;
}

function med(row: Row | undefined, metric: string): number {
  return row?.metrics[metric]?.median ?? NaN;
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–';
}

function sameParams(a: Row, b: Row, keys: readonly string[]): boolean {
  return keys.every((k) => a.params[k] === b.params[k]);
}

function find(
  rows: readonly Row[],
  like: Row,
  keys: readonly string[],
  peer: string,
  pattern?: string,
): Row | undefined {
  return rows.find(
    (r) =>
      r.bench === like.bench &&
      r.peer === peer &&
      (!pattern || r.pattern === pattern) &&
      sameParams(r, like, keys),
  );
}

function name(row: Row): string {
  return `${row.peer} (${row.pattern})`;
}

function unicastMaxTable(all: readonly Row[]): string {
  const rows = all.filter((r) => r.bench === 'unicast-max');
  const keys = ['sessions', 'fsync'];
  return table(
    'unicast-max: closed loop, 100-byte messages, delivered msg/s counted at the clients',
    [
      'appendfsync · sessions',
      'peer (producer pattern)',
      'msg/s',
      '× socket.io',
      '× recovery',
      'server µs/msg',
      'Redis µs/msg',
      'Redis cmds/msg',
      'client µs/msg',
      'lost',
      'dup',
    ],
    rows.map((r) => {
      const rate = med(r, 'msgPerSec');
      return [
        `${r.params.fsync} · ${r.params.sessions}`,
        name(r),
        spread(r.metrics.msgPerSec),
        ratio(rate, med(find(rows, r, keys, 'socket.io'), 'msgPerSec')),
        ratio(rate, med(find(rows, r, keys, 'socket.io-recovery'), 'msgPerSec')),
        fixed(med(r, 'serverCpuUsPerMsg')),
        fixed(med(r, 'redisCpuUsPerMsg')),
        fixed(med(r, 'redisCmdsPerMsg'), 2),
        fixed(med(r, 'clientCpuUsPerMsg')),
        int(med(r, 'lost')),
        int(med(r, 'duplicates')),
      ];
    }),
  );
}

function latencyTable(all: readonly Row[]): string {
  const rows = all.filter((r) => r.bench === 'unicast-latency');
  if (rows.length === 0) return '';
  const body = table(
    `unicast-latency: open loop (intended send time), ${rows[0]?.params.sessions} sessions, appendfsync ${rows[0]?.params.fsync}; ms`,
    [
      'target msg/s',
      'peer (producer pattern)',
      'delivered msg/s',
      'p50',
      'p99',
      'p99.9',
      'append acked p50',
      'append acked p99',
      // The load clients' own cost, so a run can be judged for how much of the cores they took.
      'client µs/msg',
      'lost',
      'dup',
    ],
    rows.map((r) => [
      int(Number(r.params.rate)),
      name(r),
      spread(r.metrics.msgPerSec),
      spread(r.metrics.p50Ms, (n) => fixed(n, 2)),
      spread(r.metrics.p99Ms, (n) => fixed(n, 2)),
      spread(r.metrics.p999Ms, (n) => fixed(n, 2)),
      r.metrics.ackP50Ms ? spread(r.metrics.ackP50Ms, (n) => fixed(n, 2)) : '',
      r.metrics.ackP99Ms ? spread(r.metrics.ackP99Ms, (n) => fixed(n, 2)) : '',
      fixed(med(r, 'clientCpuUsPerMsg')),
      int(med(r, 'lost')),
      int(med(r, 'duplicates')),
    ]),
  );
  const peers = [...new Set(rows.map(name))];
  const highest = (peer: string, limitMs: number): string => {
    const ok = rows.filter(
      (r) =>
        name(r) === peer && med(r, 'p99Ms') < limitMs && med(r, 'saturated') === 0 && med(r, 'lost') === 0,
    );
    const best = Math.max(...ok.map((r) => Number(r.params.rate)));
    return Number.isFinite(best) ? int(best) : 'none of the rates run';
  };
  const summary = peers.map(
    (p) => `- ${p}: highest tested rate with p99 < 50 ms: ${highest(p, 50)}; < 20 ms: ${highest(p, 20)}`,
  );
  return `${body}\n\n${summary.join('\n')}`;
}

function tokenStreamsTable(all: readonly Row[]): string {
  const rows = all.filter((r) => r.bench === 'token-streams');
  if (rows.length === 0) return '';
  const body = table(
    `token-streams: every session an LLM-like stream (30 tokens/s of 20–200 bytes in 2–6 s replies, 0.5–3 s pauses), one send at a time per session, appendfsync ${rows[0]?.params.fsync}; ms from each token's intended time`,
    [
      'sessions',
      'peer',
      'delivered msg/s',
      'p50',
      'p99',
      'p99.9',
      'server µs/msg',
      'Redis µs/msg',
      'Redis cmds/msg',
      'lost',
      'dup',
    ],
    rows.map((r) => [
      int(Number(r.params.sessions)),
      r.peer,
      spread(r.metrics.msgPerSec),
      spread(r.metrics.p50Ms, (n) => fixed(n, 2)),
      spread(r.metrics.p99Ms, (n) => fixed(n, 2)),
      spread(r.metrics.p999Ms, (n) => fixed(n, 2)),
      fixed(med(r, 'serverCpuUsPerMsg')),
      fixed(med(r, 'redisCpuUsPerMsg')),
      fixed(med(r, 'redisCmdsPerMsg'), 2),
      int(med(r, 'lost')),
      int(med(r, 'duplicates')),
    ]),
  );
  const limit = TOKEN_STREAMS_P99_LIMIT_MS;
  const sustained = (peer: string): string => {
    const mine = rows.filter((r) => r.peer === peer);
    const ok = mine.filter(sustains);
    const best = Math.max(...ok.map((r) => Number(r.params.sessions)));
    if (!Number.isFinite(best)) return 'none of the counts tried';
    const tried = Math.max(...mine.map((r) => Number(r.params.sessions)));
    return best === tried ? `${int(best)} (the most tried)` : int(best);
  };
  const peers = [...new Set(rows.map((r) => r.peer))];
  const summary = peers.map(
    (p) => `- ${p}: most sessions with p99 < ${limit} ms and nothing lost: ${sustained(p)}`,
  );
  return `${body}\n\n${summary.join('\n')}`;
}

function resumeTable(all: readonly Row[]): string {
  const rows = all.filter((r) => r.bench === 'resume-storm');
  const keys = ['sessions', 'missed'];
  const size = (r: Row): string => `${int(Number(r.params.missed))} × ${int(Number(r.params.sessions))}`;
  const body = table(
    'resume-storm: every client reconnects to the other edge at once and resumes',
    ['missed × sessions', 'peer', 'catch-up s', 'replay msg/s', '× XRANGE floor', 'lost', 'dup', 'retried'],
    rows.map((r) => {
      const hf = r.peer === 'holdfast';
      return [
        size(r),
        name(r),
        // The socket.io row's figure is its handshake storm's time: nothing to catch up on.
        spread(hf ? r.metrics.catchUpSeconds : r.metrics.connectSeconds, (n) => fixed(n, 2)),
        r.peer === 'socket.io' ? '' : spread(r.metrics.replayMsgPerSec),
        hf ? ratio(med(r, 'replayMsgPerSec'), med(find(rows, r, keys, 'redis-raw'), 'replayMsgPerSec')) : '',
        hf ? int(med(r, 'lost')) : '',
        hf ? int(med(r, 'duplicates')) : '',
        hf ? int(med(r, 'handshakeRetries')) : '',
      ];
    }),
  );
  // The XRANGE floor pays no handshake; a WebSocket server cannot avoid one per client. Taking
  // the plain Socket.IO storm's time off Holdfast's catch-up compares the replay alone.
  const derived = rows
    .filter((r) => r.peer === 'holdfast' && find(rows, r, keys, 'socket.io'))
    .map((r) => {
      const catchUp = med(r, 'catchUpSeconds');
      const handshakes = med(find(rows, r, keys, 'socket.io'), 'connectSeconds');
      const net = catchUp - handshakes;
      const rate = net > 0 ? med(r, 'delivered') / net : NaN;
      const floor = med(find(rows, r, keys, 'redis-raw'), 'replayMsgPerSec');
      return `- ${size(r)}: ${fixed(catchUp, 2)} s − ${fixed(handshakes, 2)} s = ${fixed(net, 2)} s of replay, ${int(rate)} msg/s = ${ratio(rate, floor)} the XRANGE floor`;
    });
  const note =
    "Derived, not measured (medians): Holdfast's catch-up minus the socket.io handshake floor, and its replay rate over the rest";
  return body && derived.length ? `${body}\n\n${note}:\n${derived.join('\n')}` : body;
}

function slowConsumerTable(all: readonly Row[]): string {
  const rows = all.filter((r) => r.bench === 'slow-consumer');
  const backlogs = [...new Set(rows.map((r) => Number(r.params.backlog)))];
  const at = (peer: string, backlog: number): Row | undefined =>
    rows.find((r) => r.peer === peer && Number(r.params.backlog) === backlog);
  const growth = (peer: string, backlog: number, metric: string): string => {
    const base = med(at(peer, 0), metric);
    const now = med(at(peer, backlog), metric);
    return Number.isFinite(base) && Number.isFinite(now)
      ? `${now - base >= 0 ? '+' : ''}${fixed(now - base)}`
      : '–';
  };
  return table(
    'slow-consumer: one client SIGSTOPped while the backlog grows; server memory after GC, MiB (growth over backlog 0)',
    ['backlog', 'holdfast RSS', 'holdfast heap', 'socket.io RSS', 'socket.io heap'],
    backlogs.map((b) => [
      int(b),
      `${fixed(med(at('holdfast', b), 'rssMiB'))} (${growth('holdfast', b, 'rssMiB')})`,
      `${fixed(med(at('holdfast', b), 'heapMiB'))} (${growth('holdfast', b, 'heapMiB')})`,
      `${fixed(med(at('socket.io', b), 'rssMiB'))} (${growth('socket.io', b, 'rssMiB')})`,
      `${fixed(med(at('socket.io', b), 'heapMiB'))} (${growth('socket.io', b, 'heapMiB')})`,
    ]),
  );
}

function idleTable(all: readonly Row[]): string {
  const rows = all.filter((r) => r.bench === 'idle-memory');
  const keys = ['connections'];
  return table(
    'idle-memory: server memory per idle connection (after GC, minus the same with none), and the Redis work of idle connections',
    [
      'connections',
      'peer',
      'RSS KiB/conn',
      'heap KiB/conn',
      'RSS × socket.io',
      'heap × socket.io',
      'Redis script calls/s',
      'Redis commands/s',
    ],
    rows.map((r) => {
      const plain = find(rows, r, keys, 'socket.io');
      return [
        int(Number(r.params.connections)),
        r.peer,
        fixed(med(r, 'rssKiBPerConnection')),
        fixed(med(r, 'heapKiBPerConnection')),
        r.peer === 'socket.io' ? '' : ratio(med(r, 'rssKiBPerConnection'), med(plain, 'rssKiBPerConnection')),
        r.peer === 'socket.io'
          ? ''
          : ratio(med(r, 'heapKiBPerConnection'), med(plain, 'heapKiBPerConnection')),
        fixed(med(r, 'redisScriptCallsPerSecond')),
        fixed(med(r, 'redisCommandsPerSecond')),
      ];
    }),
  );
}

function persistTable(all: readonly Row[]): string {
  const rows = all.filter((r) => r.bench === 'persist-floor');
  const keys = ['sessions', 'fsync'];
  return table(
    'persist-floor: the append path alone, acknowledged appends/s at the producer',
    [
      'appendfsync · sessions',
      'peer (producer pattern)',
      'msg/s',
      '× raw (like for like)',
      'producer µs/msg',
      'Redis µs/msg',
      'Redis cmds/msg',
      'script calls/msg',
    ],
    rows.map((r) => {
      // One awaited call against one awaited XADD; concurrent and batched against pipelines.
      const floorPattern = r.pattern === 'awaited' ? 'awaited' : 'pipeline64';
      const floor = find(rows, r, keys, 'redis-raw', floorPattern);
      return [
        `${r.params.fsync} · ${r.params.sessions}`,
        name(r),
        spread(r.metrics.msgPerSec),
        r.peer === 'redis-raw'
          ? ''
          : `${ratio(med(r, 'msgPerSec'), med(floor, 'msgPerSec'))} of ${floorPattern}`,
        fixed(med(r, 'producerCpuUsPerMsg')),
        fixed(med(r, 'redisCpuUsPerMsg')),
        fixed(med(r, 'redisCmdsPerMsg'), 2),
        fixed(med(r, 'scriptCallsPerMsg'), 2),
      ];
    }),
  );
}
