import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../helpers/free-port.js';
import { waitFor } from '../../helpers/wait-for.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const API_MAIN = fileURLToPath(new URL('../../../services/api/src/main.ts', import.meta.url));

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A real API process (services/api/src/main.ts through tsx), configured only through its
 * environment. stdout and stderr are kept, for assertions and failure messages.
 */
export class ApiProcess {
  output = '';
  private exitInfo: ExitInfo | undefined;
  private readonly exited: Promise<ExitInfo>;

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

  /** Spawn with exactly this environment (plus PATH and HOME); does not wait for readiness. */
  static async spawn(env: Record<string, string>): Promise<ApiProcess> {
    const port = env['PORT'] === undefined || env['PORT'] === '0' ? await freePort() : Number(env['PORT']);
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', API_MAIN], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: env['PORT'] ?? String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    return new ApiProcess(port, child);
  }

  /** Spawn and wait until /readyz answers 200. */
  static async start(env: Record<string, string>): Promise<ApiProcess> {
    const api = await ApiProcess.spawn({ ...env, PORT: String(await freePort()) });
    await waitFor(
      async () => {
        if (api.exitInfo) throw new Error(`api exited during start-up:\n${api.output}`);
        const res = await fetch(`${api.url}/readyz`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the api process to be ready' },
    ).catch((error: unknown) => {
      api.child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${api.output}`);
    });
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo === undefined) this.child.kill(signal);
  }

  waitForExit(): Promise<ExitInfo> {
    return this.exited;
  }

  /** Resolves once the output contains `text`. */
  async waitForOutput(text: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.output.includes(text), { timeoutMs, what: `output ${JSON.stringify(text)}` });
  }

  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}
