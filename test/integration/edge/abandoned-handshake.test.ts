/**
 * A handshake whose client gave up on it must not take the consumer's lease. Seen in
 * inbound-chaos.test.ts under load: attempt A's token check was still running when its
 * connection was reset; the client's next attempt B was checked faster, claimed the lease and
 * opened; then A's check finished and A claimed too, fencing B, and the edge told the client
 * `replaced` on B: a single client stopped for good by its own reconnection.
 *
 * The real handshake acceptance runs here on a real Socket.IO server, real clients and a real
 * Redis; only the token check of the first attempt is held until the test lets it go, which is
 * how the order of the race is made certain without sleeping.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { createTokenVerifier, type TokenVerifier } from '@holdfast/auth';
import { DEFAULT_CONSUMER_ID, PROTOCOL_VERSION } from '@holdfast/protocol';
import { SessionLog } from '@holdfast/session-log';
import { RedisServer, TEST_TOKEN_SECRET, tokenFor, waitFor } from '@holdfast/testing';
import { ConnectionCounter } from '../../../services/edge/src/connection-counter.js';
import type { EdgeSocket } from '../../../services/edge/src/connection-types.js';
import { acceptHandshake, type SocketData } from '../../../services/edge/src/handshake-acceptance.js';
import { EdgeMetrics } from '../../../services/edge/src/metrics.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';

let redis: RedisServer;
let log: SessionLog;
let http: HttpServer;
let io: Server;
const clients: ClientSocket[] = [];

/** The first token check waits for `releaseFirst()`; `firstEntered` resolves when it starts. */
const realVerifier = createTokenVerifier({ hs256Secrets: [TEST_TOKEN_SECRET] });
let verifications = 0;
let enterFirst!: () => void;
const firstEntered = new Promise<void>((resolve) => (enterFirst = resolve));
let releaseFirst!: () => void;
const firstReleased = new Promise<void>((resolve) => (releaseFirst = resolve));
const heldVerifier: TokenVerifier = {
  async verify(token, expected) {
    if (verifications++ === 0) {
      enterFirst();
      await firstReleased;
    }
    return realVerifier.verify(token, expected);
  },
};

/** Server-side sockets in handshake order, how each handshake ended, and who was replaced. */
const handshakes: ServerSocket[] = [];
const outcomes = new Map<string, Error | undefined>();
const replacedHolders: string[] = [];
const metrics = new EdgeMetrics();

beforeAll(async () => {
  redis = await RedisServer.start();
  log = new SessionLog({ redis: redis.url });
  await log.ready();
  http = createServer();
  io = new Server(http, { transports: ['websocket'] });
  const context = {
    config: { maxConnectionsPerSession: 0, leaseMs: 10_000 },
    log,
    verifier: heldVerifier,
    perSession: new ConnectionCounter(),
    metrics,
    isDraining: () => false,
    replaceHolder: (holder: string) => void replacedHolders.push(holder),
  };
  io.use((socket, next) => {
    handshakes.push(socket);
    void acceptHandshake(context, socket as EdgeSocket, (error) => {
      outcomes.set(socket.id, error);
      next(error);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await io.close();
  await log?.close();
  await redis?.destroy();
});

function attempt(auth: Record<string, unknown>): ClientSocket {
  const { port } = http.address() as AddressInfo;
  const client = connectClient(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth,
  });
  clients.push(client);
  return client;
}

describe('a handshake its client gave up on', () => {
  it("claims no lease, so the client's next connection is not replaced by it", async () => {
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const auth = { v: PROTOCOL_VERSION, sessionId, token: await tokenFor(sessionId) };

    // Attempt A: its token check is held; the client gives up on it meanwhile.
    const first = attempt(auth);
    await firstEntered;
    const abandoned = handshakes[0]!;
    first.disconnect();
    await waitFor(() => abandoned.conn.readyState === 'closed', {
      timeoutMs: 10_000,
      what: "the edge to see the first attempt's transport closed",
    });

    // Attempt B: accepted, and holds the lease.
    const second = attempt(auth);
    await new Promise<void>((resolve, reject) => {
      second.once('connect', resolve);
      second.once('connect_error', reject);
    });
    const current = handshakes[1]!;
    const generation = (current.data as SocketData).accepted!.leaseGeneration;

    // A's token check finishes now, after B was accepted.
    releaseFirst();
    await waitFor(() => outcomes.has(abandoned.id), {
      timeoutMs: 10_000,
      what: 'the first handshake to finish',
    });

    expect(outcomes.get(abandoned.id)).toBeInstanceOf(Error);
    expect(replacedHolders).not.toContain(current.id);
    expect(await log.renewLease(sessionId, DEFAULT_CONSUMER_ID, generation, 10_000)).toBe(generation);
    expect(second.connected).toBe(true);
    expect(
      await metrics.registry.getSingleMetricAsString('holdfast_edge_handshakes_abandoned_total'),
    ).toMatch(/holdfast_edge_handshakes_abandoned_total 1$/m);
  }, 30_000);
});
