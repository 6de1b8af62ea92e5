/**
 * The Socket.IO peers, as one child process per server: `plain` (per-socket emit, no
 * durability) or `recovery` (connection state recovery with @socket.io/redis-streams-adapter,
 * emitting to each session's room so every message goes through the Redis stream): the
 * producer runs in this process, as a Socket.IO application's would.
 *
 * `adapter` and `adapter-producer` are the two halves of Holdfast's topology without its
 * durability: the producer in a process of its own (`adapter-producer`, a Socket.IO server with
 * no clients) emits to each session's room through @socket.io/redis-adapter (Redis pub/sub), and
 * the server holding the connections (`adapter`) relays to its sockets. The same three hops as
 * Holdfast's producer → Redis → edge, so its latency is the floor of that topology on this host.
 * Env: MODE, REDIS_URL (every mode but plain).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { createAdapter as createPubSubAdapter } from '@socket.io/redis-adapter';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { serve } from '../lib/ipc.js';
import { sleep } from '../lib/stats.js';
import { heapSnapshotAfterGc, memoryAfterGc } from './memory.js';
import { ProducerDriver, type RunSpec, type Sink } from './producer-driver.js';

const MODES = ['plain', 'recovery', 'adapter', 'adapter-producer'] as const;
type Mode = (typeof MODES)[number];
const mode: Mode = MODES.find((m) => m === process.env.MODE) ?? 'plain';
const http = createServer();
const redis = mode === 'plain' ? undefined : new Redis(process.env.REDIS_URL ?? '');
function adapterOptions(link: Redis): Partial<ServerOptions> {
  if (mode === 'recovery')
    return {
      adapter: createAdapter(link),
      connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
    };
  // The pub/sub adapter needs a connection of its own for its subscriptions.
  return { adapter: createPubSubAdapter(link, link.duplicate()) };
}
const io = new Server(http, {
  transports: ['websocket'],
  ...(process.env.PING_TIMEOUT_MS ? { pingTimeout: Number(process.env.PING_TIMEOUT_MS) } : {}),
  ...(redis ? adapterOptions(redis) : {}),
});
const sockets: Array<Socket | undefined> = [];

io.on('connection', (socket) => {
  const session = Number((socket.handshake.auth as { session?: unknown }).session);
  if (!Number.isSafeInteger(session) || session < 0) {
    socket.disconnect(true);
    return;
  }
  sockets[session] = socket;
  if ((mode === 'recovery' && !socket.recovered) || mode === 'adapter') void socket.join(`s${session}`);
  socket.on('disconnect', () => {
    if (sockets[session] === socket) sockets[session] = undefined;
  });
});

const sink: Sink =
  mode === 'plain'
    ? { send: (session, payload) => void sockets[session]?.emit('m', payload) }
    : { send: (session, payload) => void io.to(`s${session}`).emit('m', payload) };
const driver = new ProducerDriver(sink);

// The edge's listen backlog (its LISTEN_BACKLOG default): Node's 511 drops handshakes of a
// 1,000-client storm, retried a second later, which would time TCP's retry, not the server.
await new Promise<void>((resolve) => http.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));

serve({
  info: () => ({ port: (http.address() as AddressInfo).port, mode }),
  connections: () => io.engine.clientsCount,
  start: (spec: RunSpec) => driver.start(spec),
  counts: () => driver.counts(),
  resetLatency: () => driver.resetLatency(),
  sent: () => driver.sentPerSession(),
  stop: () => driver.stop(),
  credit: (delivered: number) => driver.credit(delivered),
  memory: () => memoryAfterGc(),
  heapSnapshot: heapSnapshotAfterGc,
  /** Emit `count` messages to one session, yielding now and then (the slow-consumer backlog). */
  backlog: async ({ session, count }: { session: number; count: number }) => {
    for (let i = 0; i < count; i++) {
      void sink.send(session, driver.payloadFor(session)); // an emit: nothing to wait for
      if (i % 1000 === 999) await sleep(0);
    }
    return count;
  },
});
