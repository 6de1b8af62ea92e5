import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { freePort, waitFor } from '@holdfast/testing';

const HOST = '127.0.0.1';

// Everything a test opens is torn down after it, pass or fail, so no socket or listener outlives a test.
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface TestServer {
  readonly port: number;
  /** Server-side sockets in accept order. */
  readonly sockets: Socket[];
}

async function startServer(onConnection: (socket: Socket) => void): Promise<TestServer> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    // Tests provoke resets on purpose; the ones that care listen for 'error' themselves.
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected server address');
  return { port: address.port, sockets };
}

function startEchoServer(): Promise<TestServer> {
  return startServer((socket) => socket.pipe(socket));
}

async function startProxy(targetPort: number, listenPort?: number): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ targetPort, listenPort });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function connect(port: number): Promise<Socket> {
  const socket = createConnection({ host: HOST, port });
  socket.setNoDelay(true);
  cleanups.push(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Accumulates everything a socket receives. */
function collect(socket: Socket): { text: () => string; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const bytes = (): Buffer => Buffer.concat(chunks);
  return { bytes, text: () => bytes().toString() };
}

/**
 * Resolves with the first of `events` that any emitter fires, as 'label:event', or with 'timeout' if none
 * does within `timeoutMs`: how a test shows that something did NOT happen without a fixed sleep.
 */
function firstEvent(
  emitters: Record<string, EventEmitter>,
  events: readonly string[],
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve) => {
    const detach: (() => void)[] = [];
    const settle = (outcome: string): void => {
      clearTimeout(timer);
      for (const off of detach) off();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle('timeout'), timeoutMs);
    for (const [label, emitter] of Object.entries(emitters)) {
      for (const event of events) {
        const listener = (): void => settle(`${label}:${event}`);
        emitter.on(event, listener);
        detach.push(() => emitter.off(event, listener));
      }
    }
  });
}

/** True if a fresh connection through `port` echoes a message back; false if it is reset or closed. */
function tryEcho(port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let received = '';
    const settle = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    socket.on('connect', () => socket.write('ping'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received === 'ping') settle(true);
    });
    socket.on('error', () => settle(false));
    socket.on('close', () => settle(false));
  });
}

async function roundTrip(socket: Socket, received: () => string, message: string): Promise<number> {
  const expected = received() + message;
  const started = performance.now();
  socket.write(message);
  await waitFor(() => received() === expected, { intervalMs: 1, what: `echo of ${message}` });
  return performance.now() - started;
}

function errorCode(args: unknown[]): unknown {
  const [err] = args;
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : err;
}

describe('FaultProxy', () => {
  it('forwards bytes both ways and carries FIN and resets across', async () => {
    const server = await startServer((socket) => {
      socket.write('hello from server;');
      socket.pipe(socket);
    });
    const listenPort = await freePort();
    const proxy = await startProxy(server.port, listenPort);
    expect(proxy.port).toBe(listenPort);
    expect(proxy.url()).toBe(`http://127.0.0.1:${listenPort}`);
    expect(proxy.url('ws')).toBe(`ws://127.0.0.1:${listenPort}`);

    const client = await connect(proxy.port);
    const received = collect(client);
    const payload = randomBytes(200_000);
    client.write(payload);
    client.end();
    await once(client, 'end');
    // Buffer.equals: a deep toEqual over 200 KB takes half a second.
    expect(received.bytes().equals(Buffer.concat([Buffer.from('hello from server;'), payload]))).toBe(true);
    expect(proxy.bytesForwarded).toEqual({ upstream: payload.length, downstream: payload.length + 18 });
    await waitFor(() => proxy.connectionCount === 0, { what: 'the closed connection to be forgotten' });

    const second = await connect(proxy.port);
    const secondReceived = collect(second);
    await waitFor(() => secondReceived.text() === 'hello from server;', { what: 'the greeting' });
    expect(proxy.connectionCount).toBe(1);
    const clientError = once(second, 'error');
    server.sockets[1]?.resetAndDestroy();
    expect(errorCode(await clientError)).toBe('ECONNRESET');
  });

  it('adds latency in both directions and keeps byte order under jitter', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy(server.port);
    const client = await connect(proxy.port);
    const received = collect(client);

    const baseline = await roundTrip(client, received.text, 'a');
    proxy.setLatency(100);
    const delayed = await roundTrip(client, received.text, 'b');
    expect(delayed).toBeGreaterThanOrEqual(200);
    expect(delayed).toBeLessThan(200 + baseline + 1_000);

    // Jitter larger than the gap between writes would reorder chunks if each were delayed independently.
    proxy.setLatency(20, 20);
    const before = received.text();
    let sent = '';
    for (let i = 0; i < 100; i++) {
      const message = `m${i};`;
      sent += message;
      client.write(message);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const expected = before + sent;
    await waitFor(() => received.text().length >= expected.length, { what: 'all jittered messages' });
    expect(received.text()).toBe(expected);
  });

  it('throttles downstream to about 20 KB/s while pushing back on a fast sender', async () => {
    let serverWrote = 0;
    let maxBuffered = 0;
    // The server samples too, but starts before the proxy exists.
    const sampled: { proxy?: FaultProxy } = {};
    const sample = (): void => {
      if (sampled.proxy !== undefined) maxBuffered = Math.max(maxBuffered, sampled.proxy.bufferedBytes);
    };
    const server = await startServer((socket) => {
      // Writes 1 MB as fast as the connection accepts it, honouring backpressure.
      const block = randomBytes(16 * 1024);
      const writeMore = (): void => {
        while (serverWrote < 1024 * 1024 && !socket.destroyed) {
          serverWrote += block.length;
          sample();
          if (!socket.write(block)) {
            socket.once('drain', writeMore);
            return;
          }
        }
      };
      writeMore();
    });
    const proxy = await startProxy(server.port);
    sampled.proxy = proxy;
    proxy.setBandwidth(20_000);

    const started = performance.now();
    const client = await connect(proxy.port);
    let received = 0;
    client.on('data', (chunk: Buffer) => {
      received += chunk.length;
      sample();
    });
    await waitFor(
      () => {
        sample();
        return received >= 60_000;
      },
      { intervalMs: 5, what: '60 KB through the throttle' },
    );
    const elapsedMs = performance.now() - started;

    expect(elapsedMs).toBeGreaterThanOrEqual(2_400);
    expect(elapsedMs).toBeLessThanOrEqual(4_000);
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(256 * 1024);
    expect(proxy.bytesForwarded.downstream).toBeLessThan(60_000 + 20_000);
  });

  it('throttles only the direction asked for', async () => {
    let serverReceived = 0;
    const server = await startServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        serverReceived += chunk.length;
        socket.write(chunk);
      });
    });
    const proxy = await startProxy(server.port);
    proxy.setBandwidth(50_000, 'upstream');
    const client = await connect(proxy.port);
    let clientReceived = 0;
    client.on('data', (chunk: Buffer) => (clientReceived += chunk.length));

    const started = performance.now();
    client.write(randomBytes(25_000));
    await waitFor(() => serverReceived === 25_000, { intervalMs: 5, what: 'the upload' });
    // 25 KB at 50 KB/s, minus the 2.5 KB burst allowance.
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    await waitFor(() => clientReceived === 25_000, { what: 'the unthrottled echo' });

    proxy.setBandwidth(undefined, 'upstream');
    const unthrottled = performance.now();
    client.write(randomBytes(100_000));
    await waitFor(() => serverReceived === 125_000, { intervalMs: 5, what: 'the unthrottled upload' });
    expect(performance.now() - unthrottled).toBeLessThan(1_000);
  });

  it('blackholeConnection() silences one connection for good and leaves the others alone', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy(server.port);
    const silent = await connect(proxy.port);
    const silentReceived = collect(silent);
    await roundTrip(silent, silentReceived.text, 'hello;');
    const other = await connect(proxy.port);
    const otherReceived = collect(other);
    await roundTrip(other, otherReceived.text, 'hi;');
    const silentServerSide = server.sockets[0];
    if (silentServerSide?.remotePort === undefined) throw new Error('no server-side socket');

    // Picked by the client port the server sees, as Redis lists it in CLIENT LIST.
    expect(proxy.blackholeConnection(silentServerSide.remotePort)).toBe(true);
    expect(proxy.blackholeConnection(1)).toBe(false);
    const silentServerReceived = collect(silentServerSide);
    silent.write('lost-up;');
    silentServerSide.write('lost-down;');
    await waitFor(
      () =>
        proxy.bytesDropped.upstream === 'lost-up;'.length &&
        proxy.bytesDropped.downstream === 'lost-down;'.length,
      { what: "the proxy to swallow the silenced connection's bytes" },
    );
    // restore() lifts the proxy-wide faults only; a FIN on the silenced connection is not passed on.
    proxy.restore();
    silent.end();
    await roundTrip(other, otherReceived.text, 'still;');
    const outcome = await firstEvent({ silent, silentServerSide }, ['data', 'end', 'close', 'error'], 500);
    expect(outcome).toBe('timeout');
    expect(silentReceived.text()).toBe('hello;');
    expect(silentServerReceived.text()).toBe('');
    expect(otherReceived.text()).toBe('hi;still;');
  });

  it('blackholes without closing anything, and restore() resumes with the held bytes lost', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy(server.port);
    const client = await connect(proxy.port);
    const received = collect(client);
    await roundTrip(client, received.text, 'hello;');
    const serverSide = server.sockets[0];
    if (serverSide === undefined) throw new Error('no server-side socket');
    const serverReceived = collect(serverSide);

    proxy.blackhole();
    client.write('lost-up;');
    serverSide.write('lost-down;');
    // A connection opened during the blackhole is accepted but carries nothing.
    const late = await connect(proxy.port);
    const lateReceived = collect(late);
    late.write('lost-late;');
    await waitFor(
      () =>
        server.sockets.length === 2 &&
        proxy.bytesDropped.upstream === 'lost-up;lost-late;'.length &&
        proxy.bytesDropped.downstream === 'lost-down;'.length,
      { what: 'the late connection to reach the server and the proxy to swallow the bytes' },
    );
    const outcome = await firstEvent(
      { client, late, serverSide, lateServerSide: server.sockets[1] ?? serverSide },
      ['data', 'end', 'close', 'error'],
      500,
    );
    expect(outcome).toBe('timeout');
    expect(received.text()).toBe('hello;');
    expect(serverReceived.text()).toBe('');

    proxy.restore();
    await roundTrip(client, received.text, 'after;');
    expect(received.text()).toBe('hello;after;');
    expect(serverReceived.text()).toBe('after;');
    await roundTrip(late, lateReceived.text, 'late-after;');
    expect(lateReceived.text()).toBe('late-after;');
  });

  it('blackholes one direction only', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy(server.port);
    const client = await connect(proxy.port);
    const received = collect(client);
    await roundTrip(client, received.text, 'hello;');

    proxy.blackhole('downstream');
    client.write('one-way;');
    await waitFor(() => proxy.bytesDropped.downstream === 'one-way;'.length, {
      what: 'the echo to be dropped',
    });
    expect(proxy.bytesForwarded.upstream).toBe('hello;one-way;'.length);
    expect(received.text()).toBe('hello;');
  });

  it('resetAll() resets both sides', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy(server.port);
    const client = await connect(proxy.port);
    const received = collect(client);
    await roundTrip(client, received.text, 'hello;');
    const serverSide = server.sockets[0];
    if (serverSide === undefined) throw new Error('no server-side socket');

    const clientError = once(client, 'error');
    const serverError = once(serverSide, 'error');
    proxy.resetAll();
    expect(errorCode(await clientError)).toBe('ECONNRESET');
    expect(errorCode(await serverError)).toBe('ECONNRESET');
    expect(proxy.connectionCount).toBe(0);
    expect(await tryEcho(proxy.port)).toBe(true);
  });

  it('passes a refused upstream connection on to the client as a reset', async () => {
    const proxy = await startProxy(await freePort());
    const client = await connect(proxy.port);
    expect(errorCode(await once(client, 'error'))).toBe('ECONNRESET');
    await waitFor(() => proxy.connectionCount === 0, { what: 'the failed connection to be forgotten' });
  });

  it('delays a FIN like a chunk of bytes', async () => {
    const server = await startServer((socket) => socket.end());
    const proxy = await startProxy(server.port);
    proxy.setLatency(150);
    const started = performance.now();
    const client = await connect(proxy.port);
    const received = collect(client);
    await once(client, 'end');
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(received.text()).toBe('');
  });

  it('cut() resets current connections and refuses new ones until it ends', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy(server.port);
    const client = await connect(proxy.port);
    const received = collect(client);
    await roundTrip(client, received.text, 'hello;');

    const clientError = once(client, 'error');
    let cutOver = false;
    const started = performance.now();
    const cut = proxy.cut(300).then(() => (cutOver = true));
    expect(errorCode(await clientError)).toBe('ECONNRESET');
    expect(await tryEcho(proxy.port)).toBe(false);
    expect(cutOver).toBe(false);

    await cut;
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await waitFor(() => tryEcho(proxy.port), { what: 'connections to be accepted after the cut' });
  });

  it('refuseNew() resets new connections but keeps current ones', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy(server.port);
    const client = await connect(proxy.port);
    const received = collect(client);

    proxy.refuseNew(true);
    expect(await tryEcho(proxy.port)).toBe(false);
    await roundTrip(client, received.text, 'still-here;');
    proxy.refuseNew(false);
    expect(await tryEcho(proxy.port)).toBe(true);
  });

  it('close() destroys connections, stops listening and is idempotent', async () => {
    const server = await startEchoServer();
    const proxy = await startProxy(server.port);
    const client = await connect(proxy.port);
    const closed = once(client, 'close');

    await Promise.all([proxy.close(), proxy.close()]);
    await proxy.close();
    await closed;
    expect(proxy.connectionCount).toBe(0);
    const refused = createConnection({ host: HOST, port: proxy.port });
    cleanups.push(() => refused.destroy());
    expect(errorCode(await once(refused, 'error'))).toBe('ECONNREFUSED');
  });
});
