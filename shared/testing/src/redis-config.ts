/** RedisServer's settings and the redis-server command line they become. */

export type AppendFsync = 'always' | 'everysec' | 'no';

export interface RedisServerOptions {
  /** AOF persistence. Default true. */
  appendonly?: boolean;
  /** Default 'always': every acknowledged write is on disk, so kill -9 tests are deterministic. */
  appendfsync?: AppendFsync;
  /** RDB save points, e.g. '60 1'. Default '' (no snapshots), so only the AOF persists data. */
  save?: string;
  /** Appended last, so they override anything this helper sets. */
  extraArgs?: string[];
  maxmemory?: string;
  /** Default 'noeviction': BullMQ requires it, and a test must never lose keys silently. */
  maxmemoryPolicy?: string;
}

export interface RedisRestartOptions {
  appendfsync?: AppendFsync;
  appendonly?: boolean;
}

/** The options with every default filled in; restart() may change the persistence settings. */
export type ResolvedRedisConfig = Required<Omit<RedisServerOptions, 'maxmemory'>> & { maxmemory?: string };

export function resolveRedisConfig(opts: RedisServerOptions): ResolvedRedisConfig {
  return {
    appendonly: opts.appendonly ?? true,
    appendfsync: opts.appendfsync ?? 'always',
    save: opts.save ?? '',
    extraArgs: opts.extraArgs ?? [],
    maxmemoryPolicy: opts.maxmemoryPolicy ?? 'noeviction',
    ...(opts.maxmemory === undefined ? {} : { maxmemory: opts.maxmemory }),
  };
}

/** The command line for one run in `at.dir` on `at.port`. */
export function redisServerArgs(
  c: ResolvedRedisConfig,
  at: { host: string; port: number; dir: string; logFile: string },
): string[] {
  return [
    '--port',
    String(at.port),
    '--bind',
    at.host,
    '--dir',
    at.dir,
    '--appendonly',
    c.appendonly ? 'yes' : 'no',
    '--appendfsync',
    c.appendfsync,
    '--save',
    c.save,
    '--dbfilename',
    'dump.rdb',
    // DEBUG SLEEP / DEBUG SEGFAULT are refused from the network since Redis 7.0 without this.
    '--enable-debug-command',
    'local',
    '--logfile',
    at.logFile,
    '--daemonize',
    'no',
    '--maxmemory-policy',
    c.maxmemoryPolicy,
    ...(c.maxmemory === undefined ? [] : ['--maxmemory', c.maxmemory]),
    ...c.extraArgs,
  ];
}
