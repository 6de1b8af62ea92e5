import type { ExitInfo } from './service-process.js';
import { SourceServiceProcess } from './source-service-process.js';

export interface WorkerProcessOptions {
  redisUrl: string;
  keyPrefix: string;
  env?: Record<string, string>;
}

/** A real worker process (services/worker/src/main.ts through tsx), for crash and shutdown tests. */
export class WorkerProcess {
  private constructor(private readonly service: SourceServiceProcess) {}

  /** Spawns a worker process (not waiting for anything). */
  static spawn(options: WorkerProcessOptions): WorkerProcess {
    return new WorkerProcess(
      SourceServiceProcess.spawn('services/worker/src/main.ts', {
        REDIS_URL: options.redisUrl,
        HOLDFAST_KEY_PREFIX: options.keyPrefix,
        ...options.env,
      }),
    );
  }

  /** Spawns a worker and resolves once it printed its ready line. */
  static async start(options: WorkerProcessOptions): Promise<WorkerProcess> {
    const worker = WorkerProcess.spawn(options);
    await worker.service.waitUntilReady(
      () => worker.output.includes('"msg":"worker ready"'),
      'the worker process to be ready',
    );
    return worker;
  }

  get output(): string {
    return this.service.output;
  }

  get running(): boolean {
    return this.service.running;
  }

  signal(signal: NodeJS.Signals): void {
    this.service.signal(signal);
  }

  waitForExit(): Promise<ExitInfo> {
    return this.service.waitForExit();
  }

  kill(): Promise<void> {
    return this.service.kill();
  }
}
