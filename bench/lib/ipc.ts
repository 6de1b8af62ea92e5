import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A request from the bench runner to one of its child processes, answered by `id`. */
interface Request {
  readonly id: number;
  readonly type: string;
  readonly args: unknown;
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** A one-way message from a child (progress counters, delivered totals). */
interface Event {
  readonly event: string;
  readonly data: unknown;
}

export type Handler = (args: never) => unknown;

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TASKSET = '/usr/bin/taskset';

export interface ChildOptions {
  /** Names the process in errors. */
  readonly name: string;
  /** Entry point, from the repository root. */
  readonly main: string;
  readonly env?: Record<string, string>;
  /** CPU list for `taskset -c` (e.g. "0"), when taskset exists. */
  readonly cpus?: string;
  /** Extra Node flags, e.g. --cpu-prof or --expose-gc. */
  readonly nodeFlags?: readonly string[];
  /**
   * Load the Holdfast packages from their TypeScript sources (`--conditions=source`) instead
   * of their compiled dist/, which is what production runs. tsx compiles with `keepNames`,
   * which wraps every function a closure creates in a defineProperty call: measurably more
   * CPU and about 3 KiB more heap per edge connection than the compiled code.
   */
  readonly source?: boolean;
}

/**
 * A bench child process (a system under test, a producer or the load clients), run from
 * TypeScript through tsx and driven over Node's IPC channel: `call` sends a request and
 * resolves with the child's answer; `on` receives the child's one-way events.
 */
export class BenchChild {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, (data: unknown) => void>();
  private output = '';
  private exited = false;
  readonly exitedPromise: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.capture(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.capture(chunk));
    child.on('message', (message: Reply | Event) => {
      if ('event' in message) {
        this.listeners.get(message.event)?.(message.data);
        return;
      }
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${this.name}: ${message.error ?? 'failed'}`));
    });
    this.exitedPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        for (const waiter of this.pending.values()) {
          waiter.reject(
            new Error(`${this.name} exited (code ${code}, signal ${signal}):\n${this.output.slice(-4000)}`),
          );
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  static async start(options: ChildOptions): Promise<BenchChild> {
    const nodeArgs = [
      ...(options.nodeFlags ?? []),
      ...(options.source ? ['--conditions=source'] : []),
      '--import',
      'tsx',
      options.main,
    ];
    const pin = options.cpus !== undefined && existsSync(TASKSET);
    const command = pin ? TASKSET : process.execPath;
    const args = pin ? ['-c', options.cpus as string, process.execPath, ...nodeArgs] : nodeArgs;
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    const bench = new BenchChild(options.name, child);
    await bench.call('ping', {});
    return bench;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get log(): string {
    return this.output;
  }

  call<T>(type: string, args: unknown = {}): Promise<T> {
    if (this.exited)
      return Promise.reject(new Error(`${this.name} has exited:\n${this.output.slice(-4000)}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const request: Request = { id, type, args };
      this.child.send(request);
    });
  }

  /** A one-way message: no answer awaited (used for the closed loop's credit updates). */
  notify(type: string, args: unknown): void {
    if (!this.exited && this.child.connected) this.child.send({ id: 0, type, args });
  }

  on(event: string, listener: (data: unknown) => void): void {
    this.listeners.set(event, listener);
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.exited) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exitedPromise;
    clearTimeout(timer);
  }

  private capture(chunk: Buffer): void {
    this.output = (this.output + chunk.toString('utf8')).slice(-32_000);
  }
}

// Children never outlive the runner, whatever way it ends.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The child side: answers the runner's requests with `handlers` (a request with id 0 is a
 * one-way notification). `ping` is built in. Exits when the runner goes away.
 */
export function serve(handlers: Record<string, Handler>): void {
  process.on('message', (request: Request) => {
    void (async () => {
      if (request.type === 'ping') {
        process.send?.({ id: request.id, ok: true, result: 'pong' });
        return;
      }
      const handler = handlers[request.type];
      try {
        if (!handler) throw new Error(`unknown request ${request.type}`);
        const result = await handler(request.args as never);
        if (request.id !== 0) process.send?.({ id: request.id, ok: true, result: result ?? null });
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        if (request.id !== 0) process.send?.({ id: request.id, ok: false, error: message });
        else console.error(message);
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
}

/** A one-way event to the runner. */
export function emitEvent(event: string, data: unknown): void {
  process.send?.({ event, data });
}
