/**
 * Leak check: repeats the bad-input suite's hostile cases against one edge, many times, while
 * sampling the edge's heap (after a forced full GC) and its active handles, and fails on
 * sustained growth or on anything left open once the hostile clients are gone.
 *
 * Short version: test/integration/bad-input/leak-check.test.ts (in `npm test`).
 * Full version:
 *   node --conditions=source --import tsx test/bad-input/leak-check.ts --iterations 20000
 * It prints one progress line per sample and a JSON summary; the exit code is 1 on a leak.
 */
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { pathToFileURL } from 'node:url';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, tokenFor, waitFor } from '@holdfast/testing';
import { uniqueId } from '../helpers/session-log-fixture.js';
import { WireClient } from './wire-client.js';

export interface LeakCheckOptions {
  /** Hostile cases to run in all (round-robin over the cases). */
  readonly iterations: number;
  /** Cases in flight at once. */
  readonly concurrency?: number;
  /** Heap samples taken over the run (after warm-up). */
  readonly samples?: number;
  readonly onProgress?: (line: string) => void;
}

export interface EdgeSample {
  readonly iteration: number;
  readonly heapUsedBytes: number;
  readonly activeHandles: number;
  readonly engineConnections: number;
  readonly sessionConnections: number;
  readonly clientAddresses: number;
}

export interface LeakCheckResult {
  readonly ok: boolean;
  readonly problems: string[];
  readonly iterations: number;
  readonly durationMs: number;
  /** Heap growth per 1,000 hostile cases, by least squares over the samples after warm-up. */
  readonly heapSlopeBytesPer1000: number;
  readonly heapGrowthBytes: number;
  readonly baseline: EdgeSample;
  readonly final: EdgeSample;
  readonly samples: readonly EdgeSample[];
  readonly caseCounts: Readonly<Record<string, number>>;
}

/**
 * A leak is sustained growth: a heap trend above this many bytes per hostile case (noise here
 * is 100-300; a planted leak of one 300-element array per handshake showed about 1,200) ...
 */
const HEAP_SLOPE_LIMIT_BYTES_PER_CASE = 500;
/** ... that also adds up to more than this after warm-up (allocator and JIT noise stay below). */
const HEAP_GROWTH_LIMIT_BYTES = 1024 * 1024;
/** Active handles the idle edge may have above its baseline once every hostile client left. */
const HANDLE_SLACK = 5;

interface Context {
  readonly edge: EdgeProcess;
  readonly sessions: readonly string[];
}

type HostileCase = (ctx: Context, worker: number) => Promise<void>;

/** The hostile inputs of the bad-input suite, each as one short-lived connection. */
const CASES: Readonly<Record<string, HostileCase>> = {
  'bad token': async (ctx, worker) => {
    const wire = await WireClient.open(ctx.edge.url);
    try {
      await wire.join({ sessionId: ctx.sessions[worker % ctx.sessions.length], token: 'not-a-token' });
    } finally {
      wire.close();
    }
  },
  'bad position': async (ctx, worker) => {
    const sessionId = ctx.sessions[worker % ctx.sessions.length]!;
    const wire = await WireClient.open(ctx.edge.url);
    try {
      await wire.join({ sessionId, token: await tokenFor(sessionId), position: { epoch: 'e', offset: -1 } });
    } finally {
      wire.close();
    }
  },
  'hostile events on a session connection': async (ctx, worker) => {
    const sessionId = ctx.sessions[worker % ctx.sessions.length]!;
    const wire = await WireClient.open(ctx.edge.url);
    try {
      await wire.joined({ sessionId, token: await tokenFor(sessionId, { consumerId: `leak${worker}` }) });
      wire.emit('__proto__', [{}]);
      wire.emit('ack', [{ epoch: 'x', offset: 5 }]);
      wire.send('421["send",{"id":"p","data":{"__proto__":{"x":1}}}]');
      wire.send(`422["send",{"id":"big","data":"${'x'.repeat(300 * 1024)}"}]`);
      await wire.waitForAck(2);
    } finally {
      wire.close();
    }
  },
  'binary placeholder injection': async (ctx, worker) => {
    const sessionId = ctx.sessions[worker % ctx.sessions.length]!;
    const wire = await WireClient.open(ctx.edge.url);
    try {
      await wire.joined({ sessionId, token: await tokenFor(sessionId, { consumerId: `leak${worker}` }) });
      wire.send('451-["send",{"id":"b","data":{"_placeholder":true,"num":9}}]');
      wire.send(Buffer.from([1, 2, 3]));
      await wire.waitForClose();
    } finally {
      wire.close();
    }
  },
  'foreign Origin': async (ctx) => {
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port: ctx.edge.port,
        path: '/socket.io/?EIO=4&transport=websocket',
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version': '13',
          Origin: 'https://evil.example',
        },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        resolve();
      });
      req.on('error', () => resolve());
      req.end();
    });
  },
  'abandoned handshake (slowloris, cut off by the client)': async (ctx) => {
    const socket = tcpConnect(ctx.edge.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    socket.destroy();
  },
  'Engine.IO connection that never joins': async (ctx) => {
    const wire = await WireClient.open(ctx.edge.url);
    wire.close();
  },
};

async function sample(edge: EdgeProcess, iteration: number): Promise<EdgeSample> {
  const text = await (await fetch(`${edge.url}/metrics?gc=1`)).text();
  const metric = (name: string): number => {
    const match = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
    if (!match) throw new Error(`metric ${name} missing from /metrics`);
    return Number(match[1]);
  };
  return {
    iteration,
    heapUsedBytes: metric('nodejs_heap_size_used_bytes'),
    activeHandles: metric('nodejs_active_handles_total'),
    engineConnections: metric('holdfast_edge_engine_connections'),
    sessionConnections: metric('holdfast_edge_connections'),
    clientAddresses: metric('holdfast_edge_client_addresses'),
  };
}

/** Least-squares slope of heap over iterations. */
function slope(points: readonly EdgeSample[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.iteration, 0) / n;
  const my = points.reduce((s, p) => s + p.heapUsedBytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.iteration - mx) * (p.heapUsedBytes - my);
    den += (p.iteration - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Every hostile client is gone: the edge must hold nothing for them any more. */
async function settled(edge: EdgeProcess, iteration: number): Promise<EdgeSample> {
  return waitFor(
    async () => {
      const s = await sample(edge, iteration);
      return s.engineConnections === 0 && s.sessionConnections === 0 && s.clientAddresses === 0
        ? s
        : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: 'the edge to drop every hostile connection' },
  );
}

export async function runLeakCheck(options: LeakCheckOptions): Promise<LeakCheckResult> {
  const concurrency = options.concurrency ?? 8;
  const sampleCount = options.samples ?? 10;
  const progress = options.onProgress ?? (() => undefined);
  const redis = await RedisServer.start({ appendonly: false });
  const log = new SessionLog({ redis: redis.url });
  let edge: EdgeProcess | undefined;
  try {
    await log.ready();
    edge = await EdgeProcess.start({
      redisUrl: redis.url,
      env: {
        NODE_OPTIONS: '--expose-gc',
        // The leak check is about memory, not the limits: they stay out of its way.
        EVENTS_PER_SECOND: '100000',
        EVENTS_BURST: '100000',
        MAX_CONNECTIONS_PER_IP: '0',
        MAX_CONNECTIONS_PER_SESSION: '0',
      },
    });
    const sessions = await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const id = uniqueId();
        await log.createSession(id);
        return id;
      }),
    );
    const ctx: Context = { edge, sessions };
    const names = Object.keys(CASES);
    const caseCounts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    const started = Date.now();

    let next = 0;
    const runUntil = async (end: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: concurrency }, async (_, worker) => {
          for (let i = next++; i < end; i = next++) {
            const name = names[i % names.length]!;
            await CASES[name]!(ctx, worker);
            caseCounts[name] = (caseCounts[name] ?? 0) + 1;
          }
        }),
      );
      next = end;
    };

    // Warm-up: code paths compiled, pools and caches filled, before the baseline.
    const warmUp = Math.min(Math.ceil(options.iterations * 0.2), 2000);
    await runUntil(warmUp);
    const baseline = await settled(edge, warmUp);
    const samples: EdgeSample[] = [baseline];
    progress(
      `warm-up ${warmUp}: heap ${(baseline.heapUsedBytes / 1e6).toFixed(1)} MB, handles ${baseline.activeHandles}`,
    );
    const step = Math.max(1, Math.ceil((options.iterations - warmUp) / sampleCount));
    for (let end = warmUp + step; next < options.iterations; end += step) {
      await runUntil(Math.min(end, options.iterations));
      const s = await settled(edge, next);
      samples.push(s);
      progress(
        `${next}/${options.iterations} cases, ${((Date.now() - started) / 1000).toFixed(0)} s: heap ${(s.heapUsedBytes / 1e6).toFixed(1)} MB, handles ${s.activeHandles}`,
      );
    }
    const final = samples.at(-1)!;
    const heapSlope = slope(samples);
    const growth = final.heapUsedBytes - baseline.heapUsedBytes;
    const problems: string[] = [];
    if (heapSlope > HEAP_SLOPE_LIMIT_BYTES_PER_CASE && growth > HEAP_GROWTH_LIMIT_BYTES) {
      problems.push(
        `heap grew ${(growth / 1e6).toFixed(1)} MB over ${final.iteration - baseline.iteration} cases, ${Math.round(heapSlope)} bytes per case`,
      );
    }
    if (final.activeHandles > baseline.activeHandles + HANDLE_SLACK) {
      problems.push(`active handles went from ${baseline.activeHandles} to ${final.activeHandles}`);
    }
    if (!edge.running) problems.push('the edge process exited');
    return {
      ok: problems.length === 0,
      problems,
      iterations: next,
      durationMs: Date.now() - started,
      heapSlopeBytesPer1000: Math.round(heapSlope * 1000),
      heapGrowthBytes: growth,
      baseline,
      final,
      samples,
      caseCounts,
    };
  } finally {
    await edge?.stop();
    await log.close();
    await redis.destroy();
  }
}

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const iterations = argument('iterations', 20_000);
  runLeakCheck({
    iterations,
    concurrency: argument('concurrency', 8),
    samples: argument('samples', 20),
    onProgress: (line) => console.log(line),
  }).then(
    (result) => {
      const { samples: _samples, ...summary } = result;
      console.log(JSON.stringify(summary, null, 2));
      process.exit(result.ok ? 0 : 1);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
