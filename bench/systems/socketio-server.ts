/**
 * The Socket.IO peers, as one child process: `plain` (per-socket emit, no durability) or
 * `recovery` (connection state recovery with @socket.io/redis-streams-adapter, emitting to
 * each session's room so every message goes through the Redis stream). The producer runs in
 * this process, as a Socket.IO application's would. Env: MODE, REDIS_URL (recovery).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { serve } from '../lib/ipc.js';
import { sleep } from '../lib/stats.js';
import { heapSnapshotAfterGc, memoryAfterGc } from './memory.js';
import { ProducerDriver, type RunSpec, type Sink } from './producer-driver.js';

const mode = process.env.MODE === 'recovery' ? 'recovery' : 'plain';
const http = createServer();
const redis = mode === 'recovery' ? new Redis(process.env.REDIS_URL ?? '') : undefined;
const io = new Server(http, {
  transports: ['websocket'],
  ...(process.env.PING_TIMEOUT_MS ? { pingTimeout: Number(process.env.PING_TIMEOUT_MS) } : {}),
  ...(redis
    ? {
        adapter: createAdapter(redis),
        connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
      }
    : {}),
});
const sockets: Array<Socket | undefined> = [];

io.on('connection', (socket) => {
  const session = Number((socket.handshake.auth as { session?: unknown }).session);
  if (!Number.isSafeInteger(session) || session < 0) {
    socket.disconnect(true);
    return;
  }
  sockets[session] = socket;
  if (mode === 'recovery' && !socket.recovered) void socket.join(`s${session}`);
  socket.on('disconnect', () => {
    if (sockets[session] === socket) sockets[session] = undefined;
  });
});

const sink: Sink =
  mode === 'plain'
    ? { send: (session, payload) => void sockets[session]?.emit('m', payload) }
    : { send: (session, payload) => void io.to(`s${session}`).emit('m', payload) };
const driver = new ProducerDriver(sink);

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

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
