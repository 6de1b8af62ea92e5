import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createLogger,
  runService,
  type ExitCode,
  type ServiceDefinition,
  type ServiceHost,
} from '@holdfast/config';

/**
 * runService's exit-code rule, with a host standing in for `process` (its signals and exit):
 * 0 clean stop, 1 failed start or a stop that failed or ran out of time, 2 bad configuration.
 * The real processes are covered by the services' process tests (api/process, worker/crash,
 * edge/shutdown-exit).
 */
class FakeHost extends EventEmitter implements ServiceHost {
  readonly exits: number[] = [];
  readonly exited: Promise<number>;
  #resolve!: (code: number) => void;

  constructor() {
    super();
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
  }

  exit(code: ExitCode): void {
    this.exits.push(code);
    this.#resolve(code);
  }
}

/** The lines the service's logger wrote (JSON, one object per line), as runService logged them. */
let logged: Array<Record<string, unknown>> = [];
const destination = {
  write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>),
};

function definition(
  overrides: Partial<ServiceDefinition<{ timeoutMs: number }, { stops: number }>> = {},
): ServiceDefinition<{ timeoutMs: number }, { stops: number }> {
  return {
    name: 'test',
    configure: () => ({ timeoutMs: 1_000 }),
    // At warn: runService's lifecycle lines must still be written (scripts wait for them).
    logger: () => createLogger({ service: 'test', level: 'warn', destination }),
    start: () => Promise.resolve({ stops: 0 }),
    stop: (service) => {
      service.stops += 1;
      return Promise.resolve();
    },
    stopTimeoutMs: (config) => config.timeoutMs,
    stopping: (_service, signal) => ({ msg: 'test stopping', signal }),
    timeoutMessage: 'test stop timeout',
    ...overrides,
  };
}

describe('runService', () => {
  beforeEach(() => {
    logged = [];
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => vi.restoreAllMocks());

  it('exits 2 when the configuration is bad, naming the problem, and never starts', async () => {
    const host = new FakeHost();
    const start = vi.fn(() => Promise.resolve({ stops: 0 }));
    await runService(
      definition({
        configure: () => {
          throw new Error('PORT: expected a number');
        },
        start,
      }),
      host,
    );
    expect(await host.exited).toBe(2);
    expect(start).not.toHaveBeenCalled();
    expect(console.error).toHaveBeenCalledWith('holdfast test: PORT: expected a number');
  });

  it('exits 1 when the start fails', async () => {
    const host = new FakeHost();
    await runService(definition({ start: () => Promise.reject(new Error('Redis unreachable')) }), host);
    expect(await host.exited).toBe(1);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'test failed to start',
        err: expect.objectContaining({ message: 'Redis unreachable' }) as unknown,
      }),
    );
  });

  it('stops once on the first SIGTERM or SIGINT and exits 0 when the stop completes', async () => {
    const host = new FakeHost();
    const service = { stops: 0 };
    await runService(definition({ start: () => Promise.resolve(service) }), host);
    expect(host.exits).toEqual([]);
    host.emit('SIGTERM');
    host.emit('SIGINT');
    expect(await host.exited).toBe(0);
    expect(service.stops).toBe(1);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'info', service: 'test', msg: 'test stopping', signal: 'SIGTERM' }),
    );
    expect(logged).toContainEqual(expect.objectContaining({ level: 'info', msg: 'test stopped' }));
  });

  it('exits 1 when the stop fails', async () => {
    const host = new FakeHost();
    await runService(definition({ stop: () => Promise.reject(new Error('close failed')) }), host);
    host.emit('SIGINT');
    expect(await host.exited).toBe(1);
  });

  it('exits 1 when the stop outlives its bound', async () => {
    const host = new FakeHost();
    await runService(
      definition({ configure: () => ({ timeoutMs: 20 }), stop: () => new Promise<void>(() => {}) }),
      host,
    );
    host.emit('SIGTERM');
    expect(await host.exited).toBe(1);
    expect(logged).toContainEqual(expect.objectContaining({ level: 'error', msg: 'test stop timeout' }));
  });
});
