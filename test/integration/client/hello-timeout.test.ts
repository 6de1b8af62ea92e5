import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '@holdfast/client';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { tokenFor, waitFor } from '@holdfast/testing';

const cluster = useClientCluster();
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((io) => io.close()));
});

/**
 * What a stalled edge looks like from the client: the WebSocket opens and the namespace is
 * joined, then nothing (an edge whose Redis link died without a close, an overloaded host).
 */
async function silentEdge(): Promise<{ url: string; joined: () => number }> {
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'] });
  servers.push(io);
  let joined = 0;
  io.on('connection', () => joined++);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, joined: () => joined };
}

describe('an edge that accepts the connection and never says hello', () => {
  it('is given up after helloTimeoutMs with handshake_timeout, and the next URL serves the session', async () => {
    const silent = await silentEdge();
    const causes: string[] = [];
    const { sessionId } = await cluster.newSession();
    await cluster.publish(sessionId, 1, 3);
    const session = cluster.track(
      connect([silent.url, (await cluster.sharedEdge()).url], {
        sessionId,
        token: await tokenFor(sessionId),
        helloTimeoutMs: 300,
        retryStrategy: (_attempt, cause) => {
          causes.push(`${cause?.code}:${cause?.action}`);
          return 10;
        },
      }),
    );
    const app = new SessionRecorder(session);

    await app.waitForOffset(3);
    expect(silent.joined()).toBe(1);
    expect(causes).toEqual(['handshake_timeout:retry']);
    expect(app.errors).toEqual([]);
    expect(app.states.map((s) => `${s.state}:${s.reason ?? ''}`)).toEqual(['open:']);
  });

  it('keeps trying while every edge is silent, and never ends the session for it', async () => {
    const silent = await silentEdge();
    const causes: string[] = [];
    const { sessionId } = await cluster.newSession();
    const session = cluster.track(
      connect(silent.url, {
        sessionId,
        token: await tokenFor(sessionId),
        helloTimeoutMs: 100,
        retryStrategy: (_attempt, cause) => {
          causes.push(`${cause?.code}:${cause?.action}`);
          return 10;
        },
      }),
    );
    const app = new SessionRecorder(session);
    await waitFor(() => silent.joined() >= 3 && causes.length >= 3, { what: 'three attempts given up' });
    expect(session.state).toBe('connecting');
    expect(new Set(causes)).toEqual(new Set(['handshake_timeout:retry']));
    expect(app.errors).toEqual([]);
  });

  it('rejects a helloTimeoutMs that is not a positive integer', () => {
    expect(() => connect('http://127.0.0.1:1', { sessionId: 's', token: 't', helloTimeoutMs: 0 })).toThrow(
      /helloTimeoutMs/,
    );
  });
});
