import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { RedisServer, type AppendFsync } from '@holdfast/testing';

export type Fsync = Extract<AppendFsync, 'always' | 'everysec'>;

/**
 * The benchmark's own redis-server (never the machine's shared one), with AOF on and the given
 * `appendfsync`, no RDB snapshots, pinned to `cpus` when taskset exists.
 */
export class BenchRedis {
  private constructor(
    readonly server: RedisServer,
    readonly fsync: Fsync,
    readonly admin: Redis,
  ) {}

  static async start(fsync: Fsync, cpus?: string): Promise<BenchRedis> {
    const server = await RedisServer.start({ appendonly: true, appendfsync: fsync, save: '' });
    if (cpus !== undefined) pin(server.pid, cpus);
    return new BenchRedis(server, fsync, server.client());
  }

  get url(): string {
    return this.server.url;
  }

  get pid(): number {
    return this.server.pid;
  }

  async version(): Promise<string> {
    return /^redis_version:(\S+)/m.exec(await this.admin.info('server'))?.[1] ?? 'unknown';
  }

  /** Calls per command so far (INFO commandstats), including commands run inside scripts. */
  async commandCalls(): Promise<Record<string, number>> {
    const text = await this.admin.info('commandstats');
    const calls: Record<string, number> = {};
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      calls[match[1] as string] = Number(match[2]);
    }
    return calls;
  }

  async usedMemory(): Promise<number> {
    return Number(/^used_memory:(\d+)/m.exec(await this.admin.info('memory'))?.[1] ?? NaN);
  }

  async destroy(): Promise<void> {
    await this.server.destroy();
  }
}

/** Commands Redis ran between two commandstats snapshots, minus our own INFO calls. */
export function commandDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): { total: number; scripts: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  let scripts = 0;
  for (const [name, calls] of Object.entries(after)) {
    if (name === 'info') continue;
    const delta = calls - (before[name] ?? 0);
    if (delta <= 0) continue;
    byCommand[name] = delta;
    total += delta;
    if (name === 'evalsha' || name === 'eval' || name === 'fcall') scripts += delta;
  }
  return { total, scripts, byCommand };
}

/** Pin a running process (all its threads) to `cpus`, when taskset exists. */
export function pin(pid: number, cpus: string): void {
  if (!existsSync('/usr/bin/taskset')) return;
  execFileSync('/usr/bin/taskset', ['-a', '-pc', cpus, String(pid)], { stdio: 'ignore' });
}
