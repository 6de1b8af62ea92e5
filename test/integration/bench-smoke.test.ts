import { describe, expect, it } from 'vitest';
import { runSuite } from '../../bench/suite.js';
import { formatTables } from '../../bench/report.js';
import { PROFILES } from '../../bench/profiles.js';
import type { Row } from '../../bench/results.js';

const metric = (row: Row | undefined, name: string): number => row?.metrics[name]?.median ?? NaN;

/**
 * The benchmark harness at a tiny size: real edges, Socket.IO peers, Redis and load clients.
 * Proves the suite still runs and that its figures come from real accounting (every message
 * sent is matched at the clients by sequence number), not that any figure is fast.
 */
describe('bench harness (smoke)', () => {
  it('runs unicast-max against every peer and a resume storm, with zero loss and duplicates', async () => {
    const result = await runSuite(
      {
        profile: PROFILES.smoke,
        only: ['unicast-max', 'resume-storm'],
        out: undefined,
        pin: false,
        cpuProfDir: undefined,
        quiet: true,
        // The harness, not the figures: no build step inside the test suite.
        source: true,
        // The raw Engine.IO/Socket.IO client (the default) against every system: nothing lost.
        loadClient: 'raw',
        traceStages: false,
      },
      'bench smoke test',
    );
    expect(result.failures).toEqual([]);
    expect(result.loadClient).toBe('raw');
    const max = result.rows.filter((r) => r.bench === 'unicast-max');
    expect(max.map((r) => `${r.peer} (${r.pattern})`).sort()).toEqual([
      'holdfast (awaited)',
      'holdfast (batch16)',
      'holdfast (concurrent)',
      'socket.io (emit)',
      'socket.io-recovery (emit)',
    ]);
    for (const row of max) {
      expect(metric(row, 'msgPerSec'), `${row.peer} ${row.pattern} msg/s`).toBeGreaterThan(0);
      expect(metric(row, 'lost'), `${row.peer} ${row.pattern} lost`).toBe(0);
      expect(metric(row, 'duplicates'), `${row.peer} ${row.pattern} duplicates`).toBe(0);
      expect(metric(row, 'serverCpuUsPerMsg')).toBeGreaterThan(0);
    }
    // Durable peers send Redis commands for what they deliver; plain Socket.IO sends none (what
    // its rows show is the other peers' background traffic on the shared Redis: leases, XREAD).
    const plain = max.find((r) => r.peer === 'socket.io');
    const holdfast = max.find((r) => r.peer === 'holdfast' && r.pattern === 'concurrent');
    expect(metric(plain, 'redisCmdsPerMsg')).toBeLessThan(0.05);
    expect(metric(holdfast, 'redisCmdsPerMsg')).toBeGreaterThan(1);

    const storm = result.rows.find((r) => r.bench === 'resume-storm' && r.peer === 'holdfast');
    const floor = result.rows.find((r) => r.bench === 'resume-storm' && r.peer === 'redis-raw');
    const { resumeSessions, resumeMissed } = PROFILES.smoke;
    expect(metric(storm, 'expected')).toBe(resumeSessions * (resumeMissed[0] ?? 0));
    expect(metric(storm, 'lost')).toBe(0);
    expect(metric(storm, 'duplicates')).toBe(0);
    expect(metric(storm, 'replayMsgPerSec')).toBeGreaterThan(0);
    expect(metric(floor, 'entries')).toBe(resumeSessions * (resumeMissed[0] ?? 0));

    const tables = formatTables(result);
    expect(tables).toContain('unicast-max');
    expect(tables).toContain('× socket.io');
    expect(tables).toContain('load clients: raw');
  }, 180_000);

  it('runs unicast-latency with a stage table: the append trace, the edge stages and every process loop', async () => {
    const result = await runSuite(
      {
        profile: PROFILES.smoke,
        only: ['unicast-latency'],
        out: undefined,
        pin: false,
        cpuProfDir: undefined,
        quiet: true,
        source: true,
        // The other kind, so socket.io-client load clients keep working too.
        loadClient: 'socket.io-client',
        traceStages: false,
      },
      'bench smoke test (stages)',
    );
    expect(result.failures).toEqual([]);
    const holdfast = result.rows.find((r) => r.bench === 'unicast-latency' && r.peer === 'holdfast');
    for (const stage of [
      'intended → append call',
      'append call → script sent',
      'script sent → reply',
      'reply → caller resolved',
      'intended → edge notified',
      'intended → frame written',
    ]) {
      expect(metric(holdfast, `stage:${stage}:p99Ms`), stage).toBeGreaterThan(0);
    }
    // Every message is written after it was appended: the edge's stage starts later.
    expect(metric(holdfast, 'stage:intended → frame written:p50Ms')).toBeGreaterThanOrEqual(
      metric(holdfast, 'stage:intended → append call:p50Ms'),
    );
    for (const process of ['producer', 'edge', 'clients']) {
      expect(metric(holdfast, `loop:${process}:delayP99Ms`), process).toBeGreaterThan(0);
    }
    const plain = result.rows.find((r) => r.bench === 'unicast-latency' && r.peer === 'socket.io');
    expect(Object.keys(plain?.metrics ?? {}).some((k) => k.startsWith('stage:'))).toBe(false);
    // Every peer, the adapter peer (producer in a process of its own) included: each process's
    // CPU and run-queue wait, read from /proc, and the machine's busy share.
    const adapter = result.rows.find((r) => r.bench === 'unicast-latency' && r.peer === 'socket.io-adapter');
    expect(metric(adapter, 'lost')).toBe(0);
    expect(metric(adapter, 'sched:producer:cpuPct')).toBeGreaterThan(0);
    for (const [row, processes] of [
      [holdfast, ['producer', 'edge', 'redis', 'clients']],
      [plain, ['server', 'clients']],
    ] as const) {
      for (const process of processes) {
        expect(metric(row, `sched:${process}:cpuPct`), `${row?.peer} ${process}`).toBeGreaterThanOrEqual(0);
        expect(metric(row, `sched:${process}:waitMsPerS`), `${row?.peer} ${process}`).toBeGreaterThanOrEqual(
          0,
        );
      }
      expect(metric(row, 'sched:machine:busyPct')).toBeGreaterThan(0);
    }
    expect(formatTables(result)).toContain('unicast-latency stages (holdfast)');
    expect(formatTables(result)).toContain("main thread's run-queue wait");
    expect(formatTables(result)).toContain('load clients: socket.io-client');
  }, 180_000);

  it('runs token-streams against every peer: the same schedule, nothing lost, the sustained count named', async () => {
    const result = await runSuite(
      {
        profile: PROFILES.smoke,
        only: ['token-streams'],
        out: undefined,
        pin: false,
        cpuProfDir: undefined,
        quiet: true,
        source: true,
        loadClient: 'raw',
        traceStages: true,
      },
      'bench smoke test (token streams)',
    );
    expect(result.failures).toEqual([]);
    const rows = result.rows.filter((r) => r.bench === 'token-streams');
    expect(rows.map((r) => r.peer).sort()).toEqual([
      'holdfast',
      'socket.io',
      'socket.io-adapter',
      'socket.io-recovery',
    ]);
    for (const row of rows) {
      expect(row.params.sessions).toBe(PROFILES.smoke.tokenSessions[0]);
      expect(metric(row, 'msgPerSec'), `${row.peer} msg/s`).toBeGreaterThan(0);
      expect(metric(row, 'p99Ms'), `${row.peer} p99`).toBeGreaterThan(0);
      expect(metric(row, 'lost'), `${row.peer} lost`).toBe(0);
      expect(metric(row, 'duplicates'), `${row.peer} duplicates`).toBe(0);
      expect(metric(row, 'serverCpuUsPerMsg')).toBeGreaterThan(0);
    }
    expect(formatTables(result)).toContain('most sessions with p99 < 50 ms and nothing lost');
    // --trace-stages: Holdfast's token-streams row carries the stage trace, and its table prints.
    const holdfast = rows.find((r) => r.peer === 'holdfast');
    expect(metric(holdfast, 'stage:intended → edge notified:p50Ms')).toBeGreaterThan(0);
    expect(formatTables(result)).toContain('token-streams stages (holdfast)');
  }, 180_000);
});
