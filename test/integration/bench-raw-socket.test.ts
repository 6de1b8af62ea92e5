import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { waitFor } from '@holdfast/testing';
import { RawSocket, UnsupportedFrameError } from '../../bench/load/raw-socket.js';
import type { ConnectRefusal } from '../../bench/load/load-socket.js';

/**
 * The bench's raw load client (Engine.IO v4 / Socket.IO v5 framing over ws) against a real
 * socket.io server: auth reaches the server, events go both ways, a middleware refusal comes
 * back with its data, heartbeats are answered, and a binary attachment fails loudly instead of
 * being miscounted. (Every system's full flow, with loss accounting, is in bench-smoke.test.ts.)
 */
describe('bench raw load client', () => {
  let http: HttpServer | undefined;
  let io: Server | undefined;

  afterEach(async () => {
    await io?.close();
    http?.close();
  });

  async function start(
    configure: (io: Server) => void,
    options: { pingIntervalMs?: number } = {},
  ): Promise<string> {
    http = createServer();
    io = new Server(http, {
      transports: ['websocket'],
      ...(options.pingIntervalMs ? { pingInterval: options.pingIntervalMs, pingTimeout: 200 } : {}),
    });
    configure(io);
    await new Promise<void>((resolve) => http?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  it('connects with auth, receives and emits events, and leaves with a disconnect the server sees', async () => {
    const seen: { auth?: unknown; pings: unknown[]; reason?: string } = { pings: [] };
    const url = await start((server) =>
      server.on('connection', (socket) => {
        seen.auth = socket.handshake.auth;
        socket.on('ping-me', (payload: unknown) => {
          seen.pings.push(payload);
          socket.emit('pong-you', { echoed: payload }, 'extra argument dropped');
        });
        socket.on('disconnect', (reason) => (seen.reason = reason));
      }),
    );
    const received: unknown[] = [];
    let connected = false;
    const socket = new RawSocket(
      url,
      { session: 7, name: 'ünïcode ✓' },
      {
        connect: () => (connected = true),
        events: { 'pong-you': (payload) => received.push(payload) },
      },
    );
    await waitFor(() => connected, { what: 'the namespace connect' });
    expect(seen.auth).toEqual({ session: 7, name: 'ünïcode ✓' });
    socket.emit('ping-me', 'a "quoted" string');
    socket.emit('ping-me', [1, { two: 2 }]);
    await waitFor(() => received.length === 2, { what: 'both echoes' });
    expect(received).toEqual([{ echoed: 'a "quoted" string' }, { echoed: [1, { two: 2 }] }]);
    socket.close();
    await waitFor(() => seen.reason !== undefined, { what: 'the server to see the disconnect' });
    expect(seen.reason).toBe('client namespace disconnect');
  });

  it('answers the server ping, so a connection outlives many ping timeouts', async () => {
    let disconnected = false;
    let pongs = 0;
    const url = await start(
      (server) =>
        server.on('connection', (socket) => {
          socket.conn.on('packet', (packet: { type: string }) => {
            if (packet.type === 'pong') pongs += 1;
          });
          socket.on('disconnect', () => (disconnected = true));
        }),
      { pingIntervalMs: 50 },
    );
    let connected = false;
    const socket = new RawSocket(url, {}, { connect: () => (connected = true), events: {} });
    await waitFor(() => connected, { what: 'the namespace connect' });
    // Interval 50 ms, timeout 200 ms: ten pongs span several timeouts, each ping answered in time.
    await waitFor(() => pongs >= 10 || disconnected, { what: 'ten pongs' });
    expect(disconnected).toBe(false);
    socket.close();
  });

  it('reports a middleware refusal as a connect error with its message and data', async () => {
    const url = await start((server) =>
      server.use((_socket, next) => {
        const error = new Error('session_busy') as Error & { data?: unknown };
        error.data = { code: 'session_busy', retryAfterMs: 40 };
        next(error);
      }),
    );
    let refusal: ConnectRefusal | undefined;
    new RawSocket(url, {}, { connectError: (r) => (refusal = r), events: {} });
    await waitFor(() => refusal !== undefined, { what: 'the refusal' });
    expect(refusal).toEqual({ message: 'session_busy', data: { code: 'session_busy', retryAfterMs: 40 } });
  });

  it('reports a server that is not there as a connect error', async () => {
    const url = await start(() => undefined);
    await io?.close();
    let refusal: ConnectRefusal | undefined;
    new RawSocket(url, {}, { connectError: (r) => (refusal = r), events: {} });
    await waitFor(() => refusal !== undefined, { what: 'the refusal' });
    expect(refusal?.message).toBe('websocket error');
  });

  it('fails loudly on a binary attachment instead of counting it', async () => {
    const url = await start((server) =>
      server.on('connection', (socket) => socket.emit('m', Buffer.from('not text'))),
    );
    let failure: Error | undefined;
    const received: unknown[] = [];
    new RawSocket(
      url,
      {},
      { events: { m: (payload) => received.push(payload) } },
      { onUnsupported: (error) => (failure = error) },
    );
    await waitFor(() => failure !== undefined, { what: 'the unsupported-frame failure' });
    expect(failure).toBeInstanceOf(UnsupportedFrameError);
    expect(failure?.message).toMatch(/binary attachment/);
    expect(received).toEqual([]);
  });
});
