import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { truncateAofTailIn, type AofTruncation } from './aof-files.js';
import { fileSize, readFrom } from './file-tail.js';
import { freePort } from './free-port.js';
import { waitForProcState } from './proc-state.js';
import { findRedisServer } from './redis-binary.js';
import {
  redisServerArgs,
  resolveRedisConfig,
  type RedisRestartOptions,
  type RedisServerOptions,
  type ResolvedRedisConfig,
} from './redis-config.js';
import { probeRedisReady } from './redis-ready-probe.js';
import { trackRedisProcess, untrackRedisProcess } from './redis-reaper.js';
import { waitFor } from './wait-for.js';

export type { AofTruncation, RedisRestartOptions, RedisServerOptions };

const HOST = '127.0.0.1';
const MAX_START_ATTEMPTS = 5;
// Loading a large AOF takes a while on a slow CI box; the vitest hook timeout (60 s) is the real cap.
const READY_TIMEOUT_MS = 20_000;
// Above Redis's own shutdown-timeout (10 s), so a graceful stop is never cut short by us first.
const STOP_TIMEOUT_MS = 15_000;
const STDERR_LIMIT = 8_192;

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
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
  readonly #config: ResolvedRedisConfig;
  #child: ChildProcess | undefined;
  #exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });
  #exitInfo: ExitInfo | undefined;
  #stderr = '';
  #pid = 0;
  #runId = '';
  #paused = false;
  #destroying: Promise<void> | undefined;
  readonly #clients = new Set<Redis>();

  private constructor(bin: string, port: number, dir: string, config: ResolvedRedisConfig) {
    this.#bin = bin;
    this.#port = port;
    this.#dir = dir;
    this.#config = config;
  }

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const bin = await findRedisServer();
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-redis-'));
    const server = new RedisServer(bin, 0, dir, resolveRedisConfig(opts));
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
    await waitForProcState(this.#pid, (state) => state === 'T' || state === 't', 'stopped');
  }

  async resume(): Promise<void> {
    const child = this.#requireRunning('resume');
    child.kill('SIGCONT');
    this.#paused = false;
    await waitForProcState(this.#pid, (state) => state !== 'T' && state !== 't', 'continued');
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
    const child = spawn(
      this.#bin,
      redisServerArgs(this.#config, { host: HOST, port: this.#port, dir: this.#dir, logFile: this.#logFile }),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      // Config errors are printed to stderr before the log file is opened.
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_LIMIT);
    });
    this.#exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo) => {
        untrackRedisProcess(child);
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
      trackRedisProcess(child);
    }

    const outcome = await waitFor(
      async () => {
        if (this.#exitInfo !== undefined) return { exited: true as const };
        const runId = await probeRedisReady(HOST, this.#port);
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

  async #diagnostics(logOffset: number): Promise<string> {
    const log = await readFrom(this.#logFile, logOffset);
    const tail = log.split('\n').slice(-20).join('\n').trim();
    const parts = [`log (${this.#logFile}):\n${tail || '(empty)'}`];
    if (this.#stderr.trim() !== '') parts.push(`stderr:\n${this.#stderr.trim()}`);
    return parts.join('\n');
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

function timeout<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
