import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Server, type Socket } from 'socket.io';
import { connect, memoryStore, type HoldfastSession, type StateChange } from '@holdfast/client';
import { freePort, waitFor } from '@holdfast/testing';

/**
 * The SDK's side of `complete`, against a scripted protocol peer: the edge on main does not
 * send `complete` yet (the server side is built on another branch). The integration tests
 * against a real edge replace this once it does; the script follows docs/protocol.md.
 */
type Script = (socket: Socket, connection: number) => void;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function peer(script: Script): Promise<{ url: string; connections: () => number }> {
  const port = await freePort();
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'] });
  let connections = 0;
  io.on('connection', (socket) => script(socket, ++connections));
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => void io.close(() => resolve())));
  return { url: `http://127.0.0.1:${port}`, connections: () => connections };
}

function hello(socket: Socket, startOffset: number, head: number): void {
  socket.emit('hello', {
    sessionId: 's1',
    consumerId: 'c',
    epoch: 'e1',
    head,
    startOffset,
    ackedOffset: 0,
    window: { messages: 100, bytes: 1_000_000 },
    tokenExpiresAt: Date.now() + 3_600_000,
  });
}

function start(url: string, store = memoryStore()): { session: HoldfastSession<number>; log: string[] } {
  const session = connect<number>(url, { sessionId: 's1', token: 't', retryStrategy: () => 5, store });
  closers.push(() => session.close());
  const log: string[] = [];
  session.on('message', async ({ offset }) => {
    await new Promise((resolve) => setTimeout(resolve, 30)); // a slow handler: complete arrives meanwhile
    log.push(`message ${offset}`);
  });
  session.on('complete', ({ finalOffset }) => log.push(`complete ${finalOffset}`));
  session.on('state', ({ state, reason }: StateChange) => log.push(`${state}:${reason ?? ''}`));
  return { session, log };
}

describe('complete (client side)', () => {
  it('takes effect after the handlers of every message up to finalOffset, saves the position, does not reconnect', async () => {
    const edge = await peer((socket) => {
      hello(socket, 1, 3);
      socket.emit('batch', { epoch: 'e1', from: 1, data: [1, 2, 3] });
      socket.emit('complete', { epoch: 'e1', finalOffset: 3 });
      socket.disconnect(true); // the edge closes right after complete
    });
    const store = memoryStore();
    const { session, log } = start(edge.url, store);
    const pending = session.send({ late: true }).catch((error: { code: string }) => error.code);
    await waitFor(() => session.state === 'closed', { what: 'closed' });
    expect(log).toEqual([
      'open:',
      'message 1',
      'message 2',
      'message 3',
      'complete 3',
      'closed:session_completed',
    ]);
    expect(await store.load('s1')).toEqual({ epoch: 'e1', offset: 3 });
    expect(await pending).toBe('session_completed');
    await expect(session.send({ n: 1 })).rejects.toMatchObject({ code: 'session_completed' });
    expect(edge.connections()).toBe(1);
  });

  it('a complete below what arrived is a protocol violation: it resumes, gets the rest, then completes', async () => {
    const edge = await peer((socket, n) => {
      const handled = (socket.handshake.auth as { position?: { offset: number } }).position?.offset ?? 0;
      hello(socket, handled + 1, 3);
      const rest = [1, 2, 3].filter((offset) => offset > handled);
      if (rest.length > 0) socket.emit('batch', { epoch: 'e1', from: handled + 1, data: rest });
      // The first connection breaks the contract: offsets up to 3 were sent, complete says 1.
      socket.emit('complete', { epoch: 'e1', finalOffset: n === 1 ? 1 : 3 });
    });
    const { session, log } = start(edge.url);
    await waitFor(() => session.state === 'closed', { what: 'closed' });
    expect(log.at(-1)).toBe('closed:session_completed');
    expect(log).toContain('resuming:protocol_violation');
    expect(edge.connections()).toBe(2);
  });

  it('a connection dropped between the last batch and complete resumes as usual, then completes once', async () => {
    const edge = await peer((socket, n) => {
      const handled = (socket.handshake.auth as { position?: { offset: number } }).position?.offset ?? 0;
      hello(socket, handled + 1, 3);
      const rest = [1, 2, 3].filter((offset) => offset > handled);
      if (rest.length > 0) socket.emit('batch', { epoch: 'e1', from: handled + 1, data: rest });
      if (n === 1) socket.disconnect(true);
      else socket.emit('complete', { epoch: 'e1', finalOffset: 3 });
    });
    const { session, log } = start(edge.url);
    await waitFor(() => session.state === 'closed', { what: 'closed' });
    expect(log.filter((line) => line.startsWith('message'))).toEqual(['message 1', 'message 2', 'message 3']);
    expect(log.slice(-2)).toEqual(['complete 3', 'closed:session_completed']);
    expect(edge.connections()).toBe(2);
  });
});
