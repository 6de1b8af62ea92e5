import { freePort } from './free-port.js';
import type { ExitInfo } from './service-process.js';
import { SourceServiceProcess } from './source-service-process.js';
import { waitFor } from './wait-for.js';

/**
 * A real API process (services/api/src/main.ts through tsx), configured only through its
 * environment. stdout and stderr are kept, for assertions and failure messages.
 */
export class ApiProcess {
  private constructor(
    readonly port: number,
    private readonly service: SourceServiceProcess,
  ) {}

  /** Spawn with exactly this environment (plus PATH and HOME); does not wait for readiness. */
  static async spawn(env: Record<string, string>): Promise<ApiProcess> {
    const port = env['PORT'] === undefined || env['PORT'] === '0' ? await freePort() : Number(env['PORT']);
    return new ApiProcess(
      port,
      SourceServiceProcess.spawn('services/api/src/main.ts', { ...env, PORT: env['PORT'] ?? String(port) }),
    );
  }

  /** Spawn and wait until /readyz answers 200. */
  static async start(env: Record<string, string>): Promise<ApiProcess> {
    const api = await ApiProcess.spawn({ ...env, PORT: String(await freePort()) });
    await api.service.waitUntilReady(
      async () => (await fetch(`${api.url}/readyz`).catch(() => undefined))?.status === 200,
      'the api process to be ready',
    );
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.service.output;
  }

  signal(signal: NodeJS.Signals): void {
    this.service.signal(signal);
  }

  waitForExit(): Promise<ExitInfo> {
    return this.service.waitForExit();
  }

  /** Resolves once the output contains `text`. */
  async waitForOutput(text: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.output.includes(text), { timeoutMs, what: `output ${JSON.stringify(text)}` });
  }

  kill(): Promise<void> {
    return this.service.kill();
  }
}
