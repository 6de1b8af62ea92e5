import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, SourceServiceProcess, type ExitInfo, waitFor } from '@holdfast/testing';

export interface DemoStack {
  /** The demo page, as `npm start` printed it. */
  readonly demoUrl: string;
  readonly apiUrl: string;
  readonly apiKey: string;
  /** `npm start`'s own process. */
  readonly start: SourceServiceProcess;
  /** Pids of every process `npm start` started (Redis, the services, esbuild), read from ps. */
  children(): number[];
  /** SIGINT, as a terminal's Ctrl-C sends it; resolves with how it ended. */
  interrupt(): Promise<ExitInfo>;
  /** Removes the data folder (after the stack stopped). */
  cleanUp(): Promise<void>;
}

/** A long reply, so "mid-reply" lasts long enough on a loaded machine: 400 deltas, 40 ms apart (16 s). */
export const AGENT = { deltas: 400, delayMs: 40 };

/**
 * `npm start` (scripts/start.ts) as a user runs it, on free ports with its own data folder: it
 * starts its own redis-server, an edge, the API, a worker with the example agent and the demo page.
 */
export async function startDemoStack(): Promise<DemoStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'holdfast-demo-'));
  const [port, apiPort, demoPort, redisPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const apiKey = `demo-test-key-${'k'.repeat(20)}`;
  const start = SourceServiceProcess.spawn('scripts/start.ts', {
    PORT: String(port),
    API_PORT: String(apiPort),
    DEMO_PORT: String(demoPort),
    HOLDFAST_REDIS_PORT: String(redisPort),
    HOLDFAST_DATA_DIR: dataDir,
    API_KEYS: apiKey,
    TOKEN_HS256_SECRETS: 's'.repeat(32),
    EXAMPLE_AGENT_DELTAS: String(AGENT.deltas),
    EXAMPLE_AGENT_DELAY_MS: String(AGENT.delayMs),
  });
  await start.waitUntilReady(
    () => /demo page: (\S+)/.test(start.output),
    'npm start printing the demo URL',
    60_000,
  );
  const demoUrl = /demo page: (\S+)/.exec(start.output)?.[1] ?? '';
  return {
    demoUrl,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    apiKey,
    start,
    children: () => childrenOf(start.pid),
    interrupt: async () => {
      start.signal('SIGINT');
      return start.waitForExit();
    },
    cleanUp: async () => {
      if (start.running) await start.kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function childrenOf(pid: number): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    return []; // ps exits 1 when it lists nothing
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const waitUntilGone = (pids: number[], timeoutMs = 15_000): Promise<boolean> =>
  waitFor(() => pids.every((pid) => !isAlive(pid)), {
    timeoutMs,
    intervalMs: 100,
    what: `processes ${pids.join(', ')} to exit`,
  });
