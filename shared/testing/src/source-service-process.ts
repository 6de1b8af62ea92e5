import { REPO_ROOT } from './repo-root.js';
import { ServiceProcess, type ExitInfo } from './service-process.js';
import { waitFor } from './wait-for.js';

/**
 * A Holdfast service run as a real process from its TypeScript entry point (through tsx, with
 * workspace packages resolved to their sources), configured only by its environment: the
 * cluster runner's process wrapper, with the waiting the tests need.
 */
export class SourceServiceProcess {
  private constructor(private readonly child: ServiceProcess) {}

  /** Start `main` (a path from the repository root) with exactly `env` plus PATH and HOME; does not wait. */
  static spawn(main: string, env: Record<string, string>): SourceServiceProcess {
    const child = new ServiceProcess({
      name: main,
      command: process.execPath,
      args: ['--conditions=source', '--import', 'tsx', main],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      cwd: REPO_ROOT,
      ready: () => true,
    });
    // The child is spawned synchronously; readiness is each test's own condition (below).
    void child.start().catch(() => undefined);
    return new SourceServiceProcess(child);
  }

  get pid(): number {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.running;
  }

  get output(): string {
    return this.child.output;
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
        if (!this.running) throw new Error(`${what}: the process exited during start-up:\n${this.output}`);
        return ready();
      },
      { timeoutMs, intervalMs: 50, what },
    ).catch(async (error: unknown) => {
      await this.child.kill();
      throw new Error(`${(error as Error).message}\n${this.output}`);
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.signal(signal);
  }

  /** Resolves with how the process ended. */
  waitForExit(): Promise<ExitInfo> {
    return this.child.waitForExit();
  }

  async kill(): Promise<void> {
    await this.child.kill();
  }

  /** SIGTERM (after SIGCONT, in case it was stopped), SIGKILL if it is still running after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    await this.child.stop(graceMs);
  }
}
