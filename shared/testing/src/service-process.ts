import { spawn, type ChildProcess } from 'node:child_process';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServiceProcessOptions {
  /** Names the process in logs and errors, e.g. `edge-2`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** The port it serves on, if any (kept across restarts). */
  readonly port?: number;
  /** Probed until it resolves true: the process is ready for traffic. */
  readonly ready: (process: ServiceProcess) => Promise<boolean> | boolean;
  /** @default 30000 */
  readonly readyTimeoutMs?: number;
  /** Every line the process prints (stdout and stderr). */
  readonly onLine?: (name: string, line: string) => void;
  /**
   * Own process group, so a terminal's Ctrl-C reaches only the parent, which then stops its
   * children in order (services drain before Redis goes). @default false
   */
  readonly detached?: boolean;
}

const OUTPUT_LIMIT = 64 * 1024;
const PROBE_INTERVAL_MS = 50;

// Whatever happens to the parent, its children must not outlive it holding ports.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * One service run as a real child process: started and awaited until ready, signalled, stopped
 * gracefully (SIGTERM, then SIGKILL after a grace period, like `docker stop`) and restarted with
 * the same command, environment and port. The last 64 KiB of its output is kept for errors.
 */
export class ServiceProcess {
  #child: ChildProcess | undefined;
  #exitInfo: ExitInfo | undefined;
  #exited: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });
  #output = '';

  constructor(readonly options: ServiceProcessOptions) {}

  get name(): string {
    return this.options.name;
  }

  get port(): number | undefined {
    return this.options.port;
  }

  /** Pid of the current (or last) process; -1 before the first start. */
  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#exitInfo === undefined;
  }

  /** The last 64 KiB it printed, across restarts. */
  get output(): string {
    return this.#output;
  }

  /** Spawns the process and waits until it is ready; on failure it is killed and the error shows its output. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const { command, args, env, cwd, detached = false } = this.options;
    const child = spawn(command, [...args], { cwd, env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exitInfo = undefined;
    live.add(child);
    this.#exited = new Promise((resolve) => {
      const done = (info: ExitInfo): void => {
        live.delete(child);
        this.#exitInfo = info;
        resolve(info);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', (error) => {
        this.#append(`spawn ${command} failed: ${error.message}\n`);
        if (child.pid === undefined) done({ code: null, signal: null });
      });
    });
    this.#capture(child);
    await this.#waitUntilReady();
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child?.kill(signal);
  }

  /** Resolves with how the current process ended. */
  waitForExit(): Promise<ExitInfo> {
    return this.#exited;
  }

  /** kill -9, and wait for it. */
  async kill(): Promise<ExitInfo> {
    this.signal('SIGKILL');
    return this.#exited;
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs` (Compose's stop_grace_period). */
  async stop(graceMs: number): Promise<ExitInfo> {
    if (!this.running) return this.#exited;
    this.signal('SIGCONT'); // a stopped process would keep SIGTERM pending
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts it again (same command, environment and port) once the previous process has exited. */
  async restart(): Promise<void> {
    await this.#exited;
    await this.start();
  }

  async #waitUntilReady(): Promise<void> {
    const timeoutMs = this.options.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exitInfo !== undefined) {
        const { code, signal } = this.#exitInfo;
        throw new Error(
          `${this.name} exited (code ${code}, signal ${signal}) before it was ready:\n${this.#tail()}`,
        );
      }
      if (await Promise.resolve(this.options.ready(this)).catch(() => false)) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.#tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    }
  }

  #capture(child: ChildProcess): void {
    let pending = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      this.#append(text);
      if (!this.options.onLine) return;
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.options.onLine(this.name, line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => {
      if (pending !== '') this.options.onLine?.(this.name, pending);
    });
  }

  #append(text: string): void {
    this.#output = (this.#output + text).slice(-OUTPUT_LIMIT);
  }

  #tail(): string {
    return this.#output.split('\n').slice(-30).join('\n');
  }
}
