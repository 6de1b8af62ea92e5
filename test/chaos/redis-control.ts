import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import {
  type LocalRedis,
  ServiceProcess,
  truncateAofTailIn,
  type AofTruncation,
  waitFor,
} from '@holdfast/testing';

/** How the Redis of the cluster persists: the compose setting, or one of the lossy ones. */
export type Persistence = 'aof_always' | 'aof_everysec' | 'none';

/**
 * The cluster's redis-server, under the chaos run's control: killed, stopped, paused and
 * restarted on the same port and data folder, optionally with another persistence setting
 * (later command-line flags override the compose config file's).
 */
export class RedisControl {
  #process: ServiceProcess;
  #persistence: Persistence = 'aof_always';

  constructor(
    private readonly redis: LocalRedis,
    readonly dir: string,
  ) {
    this.#process = redis.process;
  }

  get url(): string {
    return this.redis.url;
  }

  get pid(): number {
    return this.#process.pid;
  }

  get persistence(): Persistence {
    return this.#persistence;
  }

  get running(): boolean {
    return this.#process.running;
  }

  /** A short-lived admin connection (no retries: a fault must not hang the run). */
  async command<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 0, connectTimeout: 2_000, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await fn(client);
    } finally {
      client.disconnect();
    }
  }

  async kill(): Promise<void> {
    this.#process.signal('SIGCONT');
    await this.#process.kill();
  }

  /** SIGTERM: Redis writes its AOF (and with `none`, nothing) and exits. */
  async stop(): Promise<void> {
    await this.#process.stop(30_000);
  }

  /** SHUTDOWN SAVE: a snapshot of everything, then exit (before a restart without persistence). */
  async shutdownSaving(): Promise<void> {
    await this.command((redis) => redis.call('SHUTDOWN', 'SAVE')).catch(() => undefined);
    await this.#process.waitForExit();
  }

  /** A snapshot now (BGSAVE), resolved once it is on disk: what a restart without AOF loads. */
  async snapshot(): Promise<void> {
    await this.command(async (redis) => {
      const before = Number(await redis.lastsave());
      await redis.bgsave();
      await waitFor(async () => Number(await redis.lastsave()) !== before || undefined, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'BGSAVE to finish',
      }).catch(async () => {
        // LASTSAVE has one-second resolution: two snapshots in the same second look alike.
        const info = await redis.info('persistence');
        if (!/rdb_bgsave_in_progress:0/.test(info)) throw new Error('BGSAVE did not finish');
      });
    });
  }

  async freeze(frozen: boolean): Promise<void> {
    this.#process.signal(frozen ? 'SIGSTOP' : 'SIGCONT');
    await waitForProcessState(this.#process.pid, frozen);
  }

  /** Starts it again (after kill or stop) with `persistence`, and waits until it has loaded. */
  async start(persistence: Persistence = this.#persistence): Promise<void> {
    await this.#process.waitForExit();
    if (persistence !== this.#persistence) {
      const base = this.redis.process.options;
      this.#process = new ServiceProcess({ ...base, args: [...base.args, ...flagsFor(persistence)] });
      this.#persistence = persistence;
    }
    await this.#process.start();
  }

  /** For data-loss faults: cut the newest AOF increment (Redis must be down). */
  truncateAof(bytes: number): Promise<AofTruncation> {
    return truncateAofTailIn(this.dir, bytes);
  }
}

function flagsFor(persistence: Persistence): string[] {
  switch (persistence) {
    case 'aof_always':
      return ['--appendonly', 'yes', '--appendfsync', 'always'];
    case 'aof_everysec':
      return ['--appendonly', 'yes', '--appendfsync', 'everysec'];
    case 'none':
      // Only explicit SAVE/BGSAVE snapshots: a crash loses everything since the last one.
      return ['--appendonly', 'no', '--save', ''];
  }
}

/** Waits until the kernel shows the process stopped (T) or running again (Linux /proc). */
export async function waitForProcessState(pid: number, stopped: boolean): Promise<void> {
  await waitFor(
    async () => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
      return stopped === (state === 'T' || state === 't');
    },
    { intervalMs: 5, what: `process ${pid} to be ${stopped ? 'stopped' : 'running'}` },
  );
}
