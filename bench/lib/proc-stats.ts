import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ: 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, in microseconds) a process has used so far, from /proc/<pid>/stat.
 * Read from outside, so it works the same for Node children and redis-server, and costs the
 * measured process nothing. Resolution is one tick (10 ms): runs last seconds, so that is <1%.
 */
export function cpuMicros(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // "pid (comm) state ..." — comm may contain spaces; fields after it are space-separated.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1_000_000) / TICKS_PER_SECOND;
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) * 1024;
}

/**
 * Time the process's main thread (Node's event loop, Redis's command loop) has spent runnable
 * but waiting for a CPU, in microseconds, from /proc/<pid>/schedstat (its second field, ns).
 * On two cores shared by several busy processes this is where a tail latency can go without
 * any process being slow: each hop of a message waits its turn for a core.
 */
export function runQueueWaitMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
  return Number(fields[1]) / 1000;
}

/** Busy and total CPU time of the whole machine so far (jiffies), from the first line of /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  // idle and iowait are the 4th and 5th fields; everything else (user, system, irq, steal…) is busy.
  return { busy: total - (values[3] ?? 0) - (values[4] ?? 0), total };
}

/** What a CpuMeter window measured, per named process. */
export interface ProcessUsage {
  /** CPU microseconds (user + system) each process used. */
  readonly cpu: Record<string, number>;
  /** Microseconds each process's main thread waited on a run queue for a CPU. */
  readonly runQueueWait: Record<string, number>;
  /** Share of the whole machine's CPU time that was busy (every process, ours or not), 0–1. */
  readonly machineBusy: number;
}

/** CPU microseconds used by each named process between `start()` and `stop()`. */
export class CpuMeter {
  private readonly before = new Map<string, number>();
  private readonly waitBefore = new Map<string, number>();
  private machineBefore = { busy: 0, total: 0 };

  constructor(private readonly pids: Record<string, number>) {}

  start(): void {
    this.machineBefore = machineJiffies();
    for (const [name, pid] of Object.entries(this.pids)) {
      this.before.set(name, cpuMicros(pid));
      this.waitBefore.set(name, runQueueWaitMicros(pid));
    }
  }

  stop(): Record<string, number> {
    return this.stopWithWaits().cpu;
  }

  /** The window's CPU use, run-queue waits and machine load. */
  stopWithWaits(): ProcessUsage {
    const cpu: Record<string, number> = {};
    const runQueueWait: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      cpu[name] = cpuMicros(pid) - (this.before.get(name) ?? 0);
      runQueueWait[name] = runQueueWaitMicros(pid) - (this.waitBefore.get(name) ?? 0);
    }
    const machine = machineJiffies();
    const total = machine.total - this.machineBefore.total;
    const machineBusy = total > 0 ? (machine.busy - this.machineBefore.busy) / total : NaN;
    return { cpu, runQueueWait, machineBusy };
  }
}

/** The machine this ran on, for the report. */
export function machineInfo(redisVersion: string): Record<string, string | number> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const cpus = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const memKiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return {
    cpus,
    cpuModel: model,
    memoryGiB: Math.round(memKiB / 1024 / 1024),
    node: process.version,
    redis: redisVersion,
    loadAverageAtStart: loadAverage(),
  };
}

/** The 1, 5 and 15-minute load averages, e.g. "0.52 0.61 0.70". */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/**
 * Connections the kernel has dropped so far because a listener's accept queue was full
 * (TcpExt ListenOverflows in /proc/net/netstat, machine-wide): a storm that overflows a
 * server's listen backlog times TCP's one-second SYN retry, not the server.
 */
export function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const names = lines.find((l) => l.startsWith('TcpExt:'))?.split(' ') ?? [];
  const values = lines.filter((l) => l.startsWith('TcpExt:'))[1]?.split(' ') ?? [];
  return Number(values[names.indexOf('ListenOverflows')] ?? NaN);
}
