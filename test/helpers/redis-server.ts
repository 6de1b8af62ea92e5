import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdtemp, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

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

export interface AofTruncation {
  file: string;
  sizeBefore: number;
  sizeAfter: number;
}

export const REDIS_NOT_INSTALLED =
  'redis-server is not installed: run `npm run setup` (or apt-get install redis-server)';

const HOST = '127.0.0.1';
const MAX_START_ATTEMPTS = 5;
// Loading a large AOF takes a while on a slow CI box; the vitest hook timeout (60 s) is the real cap.
const READY_TIMEOUT_MS = 20_000;
// Above Redis's own shutdown-timeout (10 s), so a graceful stop is never cut short by us first.
const STOP_TIMEOUT_MS = 15_000;
const STDERR_LIMIT = 8_192;

type ResolvedConfig = Required<Omit<RedisServerOptions, 'maxmemory'>> & { maxmemory?: string };

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

// ---------------------------------------------------------------------------------------------------
// Leak protection: every redis-server this module starts is killed when the test process goes away,
// even if a test forgot destroy() or the run crashed. 'exit' handlers must be synchronous, hence
// process.kill. Vitest stops its fork workers with SIGTERM, which by default ends a Node process
// WITHOUT an 'exit' event, so the usual termination signals are handled too and then re-raised.
// ---------------------------------------------------------------------------------------------------
const liveProcesses = new Set<ChildProcess>();
const TERMINATING_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
let exitHooksInstalled = false;

function killAllSync(): void {
  for (const child of liveProcesses) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone: nothing to clean up.
    }
  }
  liveProcesses.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  killAllSync();
  for (const sig of TERMINATING_SIGNALS) process.off(sig, onTerminatingSignal);
  // Our listener suppressed Node's default "die on signal"; restore it unless someone else (vitest,
  // a service under test) handles the signal and therefore owns the shutdown.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function track(child: ChildProcess): void {
  if (!exitHooksInstalled) {
    exitHooksInstalled = true;
    process.on('exit', killAllSync);
    for (const sig of TERMINATING_SIGNALS) process.on(sig, onTerminatingSignal);
  }
  liveProcesses.add(child);
}

// ---------------------------------------------------------------------------------------------------

/** Resolves `redis-server` on PATH, so a missing install fails with one actionable message. */
async function findRedisServer(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry.
    }
  }
  throw new Error(REDIS_NOT_INSTALLED);
}

class PortInUseError extends Error {}

/**
 * A real redis-server child process with its own temp dir, for integration tests.
 *
 * Data lives in `dir` and the port stays fixed for the life of the object, so kill()/stop() followed
 * by restart() exercises Redis's real persistence (AOF/RDB) and clients reconnect to the same address.
 */
export class RedisServer {
  readonly host = HOST;
  #port: number;
  readonly #dir: string;
  readonly #bin: string;
  readonly #config: ResolvedConfig;
  #child: ChildProcess | undefined;
  #exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });
  #exitInfo: ExitInfo | undefined;
  #stderr = '';
  #pid = 0;
  #runId = '';
  #paused = false;
  #destroying: Promise<void> | undefined;
  readonly #clients = new Set<Redis>();

  private constructor(bin: string, port: number, dir: string, config: ResolvedConfig) {
    this.#bin = bin;
    this.#port = port;
    this.#dir = dir;
    this.#config = config;
  }

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const bin = await findRedisServer();
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-redis-'));
    const server = new RedisServer(bin, 0, dir, {
      appendonly: opts.appendonly ?? true,
      appendfsync: opts.appendfsync ?? 'always',
      save: opts.save ?? '',
      extraArgs: opts.extraArgs ?? [],
      maxmemoryPolicy: opts.maxmemoryPolicy ?? 'noeviction',
      ...(opts.maxmemory === undefined ? {} : { maxmemory: opts.maxmemory }),
    });
    let lastError: unknown;
    for (let attempt = 1; attempt <= MAX_START_ATTEMPTS; attempt++) {
      // freePort() only says the port was free a moment ago; another process may bind it before
      // redis-server does, in which case we simply try again with a fresh one.
      server.#port = await freePort();
      try {
        await server.#launch();
        return server;
      } catch (err) {
        lastError = err;
        if (!(err instanceof PortInUseError)) break;
      }
    }
    await server.destroy();
    throw lastError instanceof PortInUseError
      ? new Error(`redis-server could not bind a free port in ${MAX_START_ATTEMPTS} attempts`, {
          cause: lastError,
        })
      : lastError;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `redis://${HOST}:${this.#port}`;
  }

  get dir(): string {
    return this.#dir;
  }

  /** Pid of the current (or, once it has exited, the most recent) redis-server process. */
  get pid(): number {
    return this.#pid;
  }

  /** `run_id` from INFO server, fetched after every (re)start; it changes with every new process. */
  get runId(): string {
    return this.#runId;
  }

  /** True from a successful start until the process exits (also while paused). */
  get running(): boolean {
    return this.#child !== undefined && this.#exitInfo === undefined;
  }

  get paused(): boolean {
    return this.running && this.#paused;
  }

  /** Graceful shutdown: SIGTERM makes Redis flush the AOF (and save RDB if save points are set). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    child.kill('SIGTERM');
    // A SIGSTOPped process keeps SIGTERM pending until it is continued.
    if (this.#paused) child.kill('SIGCONT');
    const exited = await Promise.race([this.#exited.then(() => true), timeout(STOP_TIMEOUT_MS, false)]);
    if (!exited) {
      await this.kill();
      throw new Error(`redis-server pid ${this.#pid} ignored SIGTERM for ${STOP_TIMEOUT_MS} ms; killed it`);
    }
  }

  /** kill -9: Redis gets no chance to flush, which is what crash tests need. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /**
   * Starts redis-server again on the same port and dir, so it reloads what it persisted. A still
   * running server is stopped gracefully first. The given persistence settings also apply to later
   * restarts.
   */
  async restart(opts: RedisRestartOptions = {}): Promise<void> {
    this.#assertNotDestroyed('restart');
    await this.stop();
    if (opts.appendonly !== undefined) this.#config.appendonly = opts.appendonly;
    if (opts.appendfsync !== undefined) this.#config.appendfsync = opts.appendfsync;
    try {
      await this.#launch();
    } catch (err) {
      // On restart the port cannot change: clients and the data dir are tied to it.
      if (err instanceof PortInUseError) {
        throw new Error(`redis-server could not rebind port ${this.#port} on restart`, { cause: err });
      }
      throw err;
    }
  }

  /** SIGSTOP: the process freezes with its sockets open, like a hung server (nothing closes). */
  async pause(): Promise<void> {
    const child = this.#requireRunning('pause');
    child.kill('SIGSTOP');
    this.#paused = true;
    await this.#waitForProcState((state) => state === 'T' || state === 't', 'stopped');
  }

  async resume(): Promise<void> {
    const child = this.#requireRunning('resume');
    child.kill('SIGCONT');
    this.#paused = false;
    await this.#waitForProcState((state) => state !== 'T' && state !== 't', 'continued');
  }

  /** Kills the process, disconnects clients from client() and deletes the temp dir. Idempotent. */
  destroy(): Promise<void> {
    this.#destroying ??= (async () => {
      // Disconnect first so the clients don't spend the teardown trying to reconnect.
      for (const client of this.#clients) client.disconnect();
      this.#clients.clear();
      await this.kill();
      await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#destroying;
  }

  /**
   * A new ioredis client for this server, disconnected by destroy(). It keeps ioredis's default
   * reconnect behaviour, so the same client works across kill()/restart().
   */
  client(options: RedisOptions = {}): Redis {
    this.#assertNotDestroyed('client');
    const client = new Redis({ host: HOST, port: this.#port, ...options });
    // These tests kill and pause the server on purpose; without a listener ioredis prints every
    // resulting connection error as "Unhandled error event". Command failures still reject.
    client.on('error', () => {});
    this.#clients.add(client);
    return client;
  }

  /**
   * Cuts `bytes` off the end of the newest AOF increment, simulating writes lost in a crash.
   *
   * Redis 7 keeps a multi-part AOF: `<dir>/appendonlydir/` holds a manifest (`appendonly.aof.manifest`,
   * lines like `file appendonly.aof.1.incr.aof seq 1 type i`) naming one base file (type b, an RDB
   * preamble by default) and the INCR files (type i) that new writes go to; the last INCR file listed
   * is the live one. With the default `aof-load-truncated yes` Redis loads the surviving prefix of
   * that last file (dropping a partial command) on restart.
   */
  async truncateAofTail(bytes: number): Promise<AofTruncation> {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`truncateAofTail: bytes must be a non-negative integer, got ${bytes}`);
    }
    if (this.running) {
      throw new Error('truncateAofTail: redis-server is running; stop() or kill() it first');
    }
    return truncateAofTailIn(this.#dir, bytes);
  }

  #args(): string[] {
    const c = this.#config;
    return [
      '--port',
      String(this.#port),
      '--bind',
      HOST,
      '--dir',
      this.#dir,
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
      this.#logFile,
      '--daemonize',
      'no',
      '--maxmemory-policy',
      c.maxmemoryPolicy,
      ...(c.maxmemory === undefined ? [] : ['--maxmemory', c.maxmemory]),
      ...c.extraArgs,
    ];
  }

  get #logFile(): string {
    return join(this.#dir, 'redis.log');
  }

  async #launch(): Promise<void> {
    this.#assertNotDestroyed('start');
    // The log file is shared by all runs in this dir; remember where this run's lines begin.
    const logOffset = await fileSize(this.#logFile);
    this.#stderr = '';
    this.#exitInfo = undefined;
    this.#paused = false;
    this.#runId = '';

    // Same process group as the test runner (not detached), so a Ctrl-C in the terminal reaches it too.
    const child = spawn(this.#bin, this.#args(), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      // Config errors are printed to stderr before the log file is opened.
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_LIMIT);
    });
    this.#exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo) => {
        liveProcesses.delete(child);
        this.#exitInfo = info;
        resolve(info);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      // 'error' without 'exit' means the process never started (ENOENT, EACCES...).
      child.once('error', (error) => {
        if (child.pid === undefined) done({ code: null, signal: null, error });
      });
    });
    if (child.pid !== undefined) {
      this.#pid = child.pid;
      track(child);
    }

    const outcome = await waitFor(
      async () => {
        if (this.#exitInfo !== undefined) return { exited: true as const };
        const runId = await this.#probeReady();
        return runId === undefined ? undefined : { exited: false as const, runId };
      },
      {
        timeoutMs: READY_TIMEOUT_MS,
        what: `redis-server on ${HOST}:${this.#port} to answer PING with loading:0`,
      },
    ).catch(async (err: unknown) => {
      await this.kill();
      throw new Error(`${errorMessage(err)}\n${await this.#diagnostics(logOffset)}`, { cause: err });
    });

    if (outcome.exited) {
      const diagnostics = await this.#diagnostics(logOffset);
      const info = await this.#exited; // Already settled: the probe saw the exit.
      const how = info.error
        ? `failed to spawn: ${info.error.message}`
        : `exited with code ${info.code} signal ${info.signal}`;
      const message = `redis-server on port ${this.#port} ${how} before it was ready\n${diagnostics}`;
      if (/Address already in use/i.test(diagnostics)) throw new PortInUseError(message);
      throw new Error(message);
    }
    this.#runId = outcome.runId;
  }

  /**
   * One readiness probe on a fresh connection: PING must answer PONG (it answers -LOADING while the
   * dataset loads) and INFO persistence must say loading:0. Returns the run_id when ready.
   */
  async #probeReady(): Promise<string | undefined> {
    const probe = new Redis({
      host: HOST,
      port: this.#port,
      lazyConnect: true,
      connectTimeout: 500,
      commandTimeout: 1_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      // ioredis's own ready check would wait out the load by itself; we want a quick yes/no.
      enableReadyCheck: false,
    });
    probe.on('error', () => {}); // Refused connections are expected here; connect() rejects anyway.
    try {
      await probe.connect();
      if ((await probe.ping()) !== 'PONG') return undefined;
      const persistence = await probe.info('persistence');
      if (!/^loading:0\r?$/m.test(persistence)) return undefined;
      const server = await probe.info('server');
      return /^run_id:([0-9a-f]+)\r?$/m.exec(server)?.[1];
    } finally {
      probe.disconnect();
    }
  }

  async #diagnostics(logOffset: number): Promise<string> {
    const log = await readFrom(this.#logFile, logOffset);
    const tail = log.split('\n').slice(-20).join('\n').trim();
    const parts = [`log (${this.#logFile}):\n${tail || '(empty)'}`];
    if (this.#stderr.trim() !== '') parts.push(`stderr:\n${this.#stderr.trim()}`);
    return parts.join('\n');
  }

  /** Waits (Linux /proc only) until the kernel reports the signalled state, so callers can rely on it. */
  async #waitForProcState(accept: (state: string) => boolean, what: string): Promise<void> {
    const statFile = `/proc/${this.#pid}/stat`;
    const readState = async (): Promise<string | undefined> => {
      try {
        const text = await readFile(statFile, 'utf8');
        // Format: "pid (comm) S ..."; comm may itself contain spaces and parentheses.
        return text.slice(text.lastIndexOf(')') + 2).charAt(0);
      } catch {
        return undefined;
      }
    };
    if ((await readState()) === undefined) return; // No procfs (macOS): signals are all we have.
    await waitFor(async () => accept((await readState()) ?? ''), {
      timeoutMs: 5_000,
      intervalMs: 5,
      what: `redis-server pid ${this.#pid} to be ${what}`,
    });
  }

  #requireRunning(op: string): ChildProcess {
    const child = this.#child;
    if (child === undefined || !this.running) throw new Error(`${op}: redis-server is not running`);
    return child;
  }

  #assertNotDestroyed(op: string): void {
    if (this.#destroying !== undefined) throw new Error(`${op}: RedisServer was destroyed`);
  }
}

interface ManifestEntry {
  file: string;
  type: string;
}

/** Manifest lines are space-separated key/value pairs: `file <name> seq <n> type <b|h|i>`. */
/**
 * Cuts `bytes` off the end of the newest AOF increment in a stopped redis-server's data folder
 * `dir` (see RedisServer.truncateAofTail): writes lost in an OS crash.
 */
export async function truncateAofTailIn(dir: string, bytes: number): Promise<AofTruncation> {
  const aofDir = join(dir, 'appendonlydir');
  const manifestName = (await readdir(aofDir)).find((name) => name.endsWith('.manifest'));
  if (manifestName === undefined) throw new Error(`truncateAofTail: no *.manifest in ${aofDir}`);
  const manifest = await readFile(join(aofDir, manifestName), 'utf8');
  const incrFiles = parseManifest(manifest).filter((entry) => entry.type === 'i');
  const last = incrFiles.at(-1);
  if (last === undefined) throw new Error(`truncateAofTail: ${manifestName} lists no INCR file`);
  const file = join(aofDir, last.file);
  const sizeBefore = (await stat(file)).size;
  const sizeAfter = Math.max(0, sizeBefore - bytes);
  await truncate(file, sizeAfter);
  return { file, sizeBefore, sizeAfter };
}

function parseManifest(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < tokens.length; i += 2) {
      // Redis quotes names containing special characters; the default names never need it.
      fields.set(tokens[i] as string, (tokens[i + 1] as string).replace(/^"(.*)"$/, '$1'));
    }
    const file = fields.get('file');
    const type = fields.get('type');
    if (file !== undefined && type !== undefined) entries.push({ file, type });
  }
  return entries;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readFrom(path: string, offset: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}

function timeout<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
