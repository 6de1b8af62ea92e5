import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createExampleAgent,
  exampleAgentOptionsFromEnv,
  exampleReply,
  loadHandler,
  loadWorkerConfig,
  type HandlerContext,
} from '@holdfast/worker';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('worker configuration', () => {
  it('has defaults for everything', () => {
    expect(loadWorkerConfig({})).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix: 'hf',
      sharedLog: { partitions: 256, oldLayout: 'refuse' },
      inboundQueues: 1,
      redisProbe: { intervalMs: 1000, timeoutMs: 2000 },
      concurrency: 16,
      handlerModule: undefined,
      maxAttempts: 3,
      retryBaseMs: 1000,
      retryMaxMs: 30_000,
      shutdownTimeoutMs: 20_000,
      lockDurationMs: 15_000,
      stalledIntervalMs: 5_000,
      deadLetterRetentionMs: 604_800_000,
      inboxSweepEveryMs: 60_000,
      metrics: undefined,
      logLevel: 'info',
    });
  });

  it('serves metrics only when METRICS_PORT is set', () => {
    expect(loadWorkerConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(() => loadWorkerConfig({ METRICS_PORT: 'x' })).toThrow(/METRICS_PORT/);
  });

  it('names every bad variable', () => {
    expect(() =>
      loadWorkerConfig({
        WORKER_CONCURRENCY: '0',
        MAX_ATTEMPTS: 'three',
        HOLDFAST_KEY_PREFIX: 'a:b',
        REDIS_URL: 'x',
      }),
    ).toThrow(/WORKER_CONCURRENCY[\s\S]*MAX_ATTEMPTS|MAX_ATTEMPTS[\s\S]*WORKER_CONCURRENCY/);
    for (const [name, value] of [
      ['HOLDFAST_KEY_PREFIX', 'a:b'],
      ['REDIS_URL', 'not a url'],
      ['LOCK_DURATION_MS', '5'],
      ['SHUTDOWN_TIMEOUT_MS', '-1'],
      ['HOLDFAST_INBOUND_QUEUES', '0'],
      ['HOLDFAST_INBOUND_QUEUES', '257'],
    ] as const) {
      expect(() => loadWorkerConfig({ [name]: value })).toThrow(name);
    }
    expect(() => exampleAgentOptionsFromEnv({ EXAMPLE_AGENT_DELTAS: '0' })).toThrow('EXAMPLE_AGENT_DELTAS');
  });

  it('loads HANDLER_MODULE by path, and refuses a module without a handler, naming the variable', async () => {
    const echo = await loadHandler(fixture('worker-echo-handler.ts'));
    expect(typeof echo).toBe('function');
    await expect(loadHandler(fixture('worker-not-a-handler.ts'))).rejects.toThrow(
      /^HANDLER_MODULE: .*default export/,
    );
    await expect(loadHandler('./does-not-exist.js')).rejects.toThrow(/^HANDLER_MODULE: could not import/);
  });
});

describe('example agent', () => {
  it('answers deterministically per prompt and attempt, differently in another attempt', () => {
    expect(exampleReply('hello', 1, 20)).toEqual(exampleReply('hello', 1, 20));
    expect(exampleReply('hello', 2, 20).join('')).not.toBe(exampleReply('hello', 1, 20).join(''));
    expect(exampleReply('hello', 1, 20)).toHaveLength(20);
  });

  it('streams its deltas a few per publish, then one final holding the whole reply', async () => {
    const published: unknown[][] = [];
    const ctx: HandlerContext = {
      sessionId: 's',
      message: { id: 'm', data: { text: 'hello' }, consumerId: 'default' },
      attempt: 1,
      signal: new AbortController().signal,
      publish: async (data) => void published.push([data]),
      publishBatch: async (data) => void published.push([...data]),
    };
    await createExampleAgent({ deltas: 12, delayMs: 0, batchSize: 5 })(ctx);
    expect(published.map((batch) => batch.length)).toEqual([5, 5, 2, 1]);
    const deltas = published.flat().slice(0, -1) as Array<{ type: string; text: string }>;
    expect(deltas.every((d) => d.type === 'delta')).toBe(true);
    expect(published.at(-1)).toEqual([{ type: 'final', text: deltas.map((d) => d.text).join('') }]);
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const ctx: HandlerContext = {
      sessionId: 's',
      message: { id: 'm', data: { text: 'hello' }, consumerId: 'default' },
      attempt: 1,
      signal: controller.signal,
      publish: async () => undefined,
      publishBatch: async () => controller.abort(reason),
    };
    await expect(createExampleAgent({ deltas: 100, delayMs: 1, batchSize: 2 })(ctx)).rejects.toBe(reason);
  });
});
