import { resolve } from 'node:path';
import { freePort, TEST_TOKEN_SECRET } from '@holdfast/testing';
import { BenchChild } from './ipc.js';
import type { LoadClientKind } from '../load/load-socket.js';

/**
 * Core layout on the 2-core machine (when taskset exists): the application side (edges,
 * Socket.IO servers, producers) on core 0; Redis and the load clients on core 1. Every peer
 * gets the same layout.
 */
export interface Placement {
  readonly app?: string;
  readonly redis?: string;
  readonly clients?: string;
}

export function placement(pin: boolean): Placement {
  return pin ? { app: '0', redis: '1', clients: '1' } : {};
}

export interface SystemOptions {
  readonly placement: Placement;
  readonly cpuProfDir: string | undefined;
  /** Run the Holdfast packages from TypeScript sources rather than dist/ (see ChildOptions.source). */
  readonly source: boolean;
  /** What every load-client process connects with (bench/load/load-socket.ts). */
  readonly loadClient: LoadClientKind;
}

/** A real Holdfast edge process on a free port. */
export async function startEdge(
  name: string,
  redisUrl: string,
  options: SystemOptions,
  env: Record<string, string> = {},
): Promise<{ child: BenchChild; url: string }> {
  const port = await freePort();
  const cpuProf = cpuProfFlags(name, options);
  const child = await BenchChild.start({
    name,
    main: 'bench/systems/holdfast-edge.ts',
    source: options.source,
    cpus: options.placement.app,
    nodeFlags: ['--expose-gc', ...cpuProf],
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      TOKEN_HS256_SECRETS: TEST_TOKEN_SECRET,
      DRAIN_SPREAD_MS: '0',
      // Every bench client connects from 127.0.0.1: the per-address limit (2,000) would refuse
      // the idle-memory benchmark's 5,000 and 10,000 connections.
      MAX_CONNECTIONS_PER_IP: '0',
      ...env,
    },
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** A Socket.IO server process (bench/systems/socketio-server.ts says what each mode is). */
export async function startSocketIo(
  mode: 'plain' | 'recovery' | 'adapter' | 'adapter-producer',
  redisUrl: string,
  options: SystemOptions,
  env: Record<string, string> = {},
): Promise<{ child: BenchChild; url: string }> {
  const child = await BenchChild.start({
    name: `socket.io-${mode}`,
    main: 'bench/systems/socketio-server.ts',
    source: options.source,
    cpus: options.placement.app,
    nodeFlags: ['--expose-gc'],
    env: { MODE: mode, REDIS_URL: redisUrl, ...env },
  });
  const { port } = await child.call<{ port: number }>('info');
  return { child, url: `http://127.0.0.1:${port}` };
}

/** --cpu-prof for the Holdfast processes (edges, producer) when asked for: written when they exit. */
function cpuProfFlags(name: string, options: SystemOptions): string[] {
  if (!options.cpuProfDir) return [];
  // One directory per process: tsx's loader thread writes a profile of its own beside the main one.
  const dir = resolve(options.cpuProfDir, `${name}-${Date.now()}`);
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** `trace`: record every append's stages (append-trace.ts), for the latency stage table. */
export function startProducer(
  redisUrl: string,
  options: SystemOptions,
  keep?: number,
  trace = false,
): Promise<BenchChild> {
  return BenchChild.start({
    name: 'producer',
    main: 'bench/systems/producer.ts',
    source: options.source,
    cpus: options.placement.app,
    nodeFlags: cpuProfFlags('producer', options),
    env: {
      REDIS_URL: redisUrl,
      ...(keep ? { KEEP_MESSAGES: String(keep) } : {}),
      ...(trace ? { TRACE_APPENDS: '1' } : {}),
    },
  });
}

export function startClients(name: string, options: SystemOptions): Promise<BenchChild> {
  return BenchChild.start({
    name,
    main: 'bench/load/clients.ts',
    cpus: options.placement.clients,
    source: options.source,
    env: { LOAD_CLIENT: options.loadClient },
  });
}

/** SIGTERM (an edge exits at once, writing its --cpu-prof profile), SIGKILL after 3 s. */
export async function stopAll(children: ReadonlyArray<BenchChild | undefined>): Promise<void> {
  await Promise.all(children.map((child) => child?.stop(3000)));
}
