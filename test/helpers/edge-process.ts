import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EDGE_MAIN = fileURLToPath(new URL('../../services/edge/src/main.ts', import.meta.url));

/** The shared secret test tokens are signed with (the edges verify with it). */
export const TEST_TOKEN_SECRET = 'holdfast-test-secret-0123456789-abcdefghijklmnop';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A real edge process (services/edge/src/main.ts run through tsx), for tests that kill,
 * stop and drain edges. Its stdout and stderr are kept for failure messages.
 */
export class EdgeProcess {
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output = '';

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
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

  static async start(options: {
    redisUrl: string;
    env?: Record<string, string>;
    port?: number;
  }): Promise<EdgeProcess> {
    const port = options.port ?? (await freePort());
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', EDGE_MAIN], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: options.redisUrl,
        TOKEN_HS256_SECRETS: TEST_TOKEN_SECRET,
        DRAIN_SPREAD_MS: '200',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const edge = new EdgeProcess(port, child);
    await waitFor(
      async () => {
        if (edge.exitInfo) throw new Error(`edge exited during start-up:\n${edge.output}`);
        const res = await fetch(`${edge.url}/readyz`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: `edge on port ${port} to be ready` },
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${edge.output}`);
    });
    return edge;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves with how the process ended. */
  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
