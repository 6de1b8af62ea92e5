import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
// A test run that crashes must not leave service processes behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A Holdfast service run as a real process from its TypeScript entry point (through tsx, with
 * workspace packages resolved to their sources), configured only by its environment. Its
 * stdout and stderr are kept for assertions and failure messages.
 */
export class ServiceProcess {
  output = '';
  private exitInfo: ExitInfo | undefined;
  private readonly exited: Promise<ExitInfo>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  /** Start `main` (a path from the repository root) with exactly `env` plus PATH and HOME. */
  static spawn(main: string, env: Record<string, string>): ServiceProcess {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    return new ServiceProcess(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /**
   * Wait until `ready` holds. Fails at once, with the process's output, if it exits first;
   * on failure the process is killed.
   */
  async waitUntilReady(
    ready: () => boolean | Promise<boolean>,
    what: string,
    timeoutMs = 20_000,
  ): Promise<void> {
    await waitFor(
      async () => {
        if (this.exitInfo) throw new Error(`${what}: the process exited during start-up:\n${this.output}`);
        return ready();
      },
      { timeoutMs, intervalMs: 50, what },
    ).catch((error: unknown) => {
      this.child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${this.output}`);
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves with how the process ended. */
  waitForExit(): Promise<ExitInfo> {
    return this.exited;
  }

  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (after SIGCONT, in case it was stopped), SIGKILL if it is still running after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
