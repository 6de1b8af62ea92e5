import { freePort } from './free-port.js';
import type { ExitInfo } from './service-process.js';
import { SourceServiceProcess } from './source-service-process.js';
import { TEST_TOKEN_SECRET } from './tokens.js';

/** A real edge process (services/edge/src/main.ts), for tests that kill, stop and drain edges. */
export class EdgeProcess {
  private constructor(
    readonly port: number,
    private readonly service: SourceServiceProcess,
  ) {}

  static async start(options: {
    redisUrl: string;
    env?: Record<string, string>;
    port?: number;
  }): Promise<EdgeProcess> {
    const port = options.port ?? (await freePort());
    const service = SourceServiceProcess.spawn('services/edge/src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: options.redisUrl,
      TOKEN_HS256_SECRETS: TEST_TOKEN_SECRET,
      DRAIN_SPREAD_MS: '200',
      ...options.env,
    });
    const edge = new EdgeProcess(port, service);
    await service.waitUntilReady(
      async () => (await fetch(`${edge.url}/readyz`).catch(() => undefined))?.status === 200,
      `edge on port ${port} to be ready`,
    );
    return edge;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.service.pid;
  }

  get running(): boolean {
    return this.service.running;
  }

  get output(): string {
    return this.service.output;
  }

  signal(signal: NodeJS.Signals): void {
    this.service.signal(signal);
  }

  /** Resolves with how the process ended. */
  waitForExit(): Promise<ExitInfo> {
    return this.service.waitForExit();
  }

  kill(): Promise<void> {
    return this.service.kill();
  }

  stop(): Promise<void> {
    return this.service.stop();
  }
}
