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

/** CPU microseconds used by each named process between `start()` and `stop()`. */
export class CpuMeter {
  private readonly before = new Map<string, number>();

  constructor(private readonly pids: Record<string, number>) {}

  start(): void {
    for (const [name, pid] of Object.entries(this.pids)) this.before.set(name, cpuMicros(pid));
  }

  stop(): Record<string, number> {
    const used: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids))
      used[name] = cpuMicros(pid) - (this.before.get(name) ?? 0);
    return used;
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
