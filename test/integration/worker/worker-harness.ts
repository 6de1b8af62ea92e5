import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { InboundQueue } from '@holdfast/inbound-queue';
import type { SessionLog } from '@holdfast/session-log';
import { isWorkerEnvelope, type WorkerEnvelope } from '@holdfast/worker';
import { waitFor } from '../../helpers/wait-for.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('../../../services/worker/src/main.ts', import.meta.url));

/** What the edge does for a client's `send`: store the message, then schedule its drain. */
export async function send(
  log: SessionLog,
  queue: InboundQueue,
  sessionId: string,
  id: string,
  data: unknown,
): Promise<{ seq: number; duplicate: boolean; generation: number }> {
  const accepted = await log.enqueueInbound(sessionId, { id, data });
  if (accepted.generation > 0) await queue.submitDrain(sessionId, accepted.generation);
  return accepted;
}

/** Every entry of a session's log, in offset order. */
export async function readAll(log: SessionLog, sessionId: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let from = 1; ;) {
    const page = await log.read(sessionId, { from, limit: 1000 });
    out.push(...page.entries.map((entry) => entry.data));
    if (page.entries.length === 0 || from + page.entries.length > page.head) return out;
    from += page.entries.length;
  }
}

/** The worker envelopes of a session's log (what a client would attribute to messages). */
export async function readEnvelopes(log: SessionLog, sessionId: string): Promise<WorkerEnvelope[]> {
  const entries = await readAll(log, sessionId);
  return entries.filter(isWorkerEnvelope);
}

/** True once every inbound message of the session was handled and its drain ended. */
export async function inboxSettled(redis: Redis, log: SessionLog, sessionId: string): Promise<boolean> {
  const [seq, done, sched] = await redis.hmget(log.keys(sessionId).inboxState, 'seq', 'done', 'sched');
  return seq !== null && seq === done && sched === '0';
}

export interface WorkerProcessOptions {
  redisUrl: string;
  keyPrefix: string;
  env?: Record<string, string>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A real worker process (services/worker/src/main.ts through tsx), for crash and shutdown tests. */
export class WorkerProcess {
  output = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

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

  /** Spawns a worker process (not waiting for anything). */
  static spawn(options: WorkerProcessOptions): WorkerProcess {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', WORKER_MAIN], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        REDIS_URL: options.redisUrl,
        HOLDFAST_KEY_PREFIX: options.keyPrefix,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    return new WorkerProcess(child);
  }

  /** Spawns a worker and resolves once it printed its ready line. */
  static async start(options: WorkerProcessOptions): Promise<WorkerProcess> {
    const worker = WorkerProcess.spawn(options);
    const child = worker.child;
    await waitFor(
      () => {
        if (worker.exitInfo) throw new Error(`worker exited during start-up:\n${worker.output}`);
        return worker.output.includes('"msg":"worker ready"');
      },
      { timeoutMs: 20_000, intervalMs: 20, what: 'the worker process to be ready' },
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${worker.output}`);
    });
    return worker;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}
