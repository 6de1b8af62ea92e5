import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { ErrorCode, PROTOCOL_VERSION } from '@holdfast/protocol';
import { RawClient, type RawClientOptions } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { tokenFor, waitFor } from '@holdfast/testing';
import { WireClient } from '../../bad-input/wire-client.js';
import { useBadInputEnvironment } from './bad-input-fixture.js';

const ALLOWED_ORIGIN = 'https://app.example';
const FOREIGN_ORIGIN = 'https://evil.example';
/** Short, so the slow-handshake cases below take seconds; the default is 10 s. */
const HANDSHAKE_TIMEOUT_MS = 2500;

// ALLOW_MISSING_ORIGIN stays at its default (true): the Node clients below send no Origin.
const env = useBadInputEnvironment({
  edgeEnv: { ALLOWED_ORIGINS: ALLOWED_ORIGIN, HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_TIMEOUT_MS) },
});

async function newSession(): Promise<string> {
  return env.createSession();
}

/** A valid client on a fresh session connects and receives a message, and the bystander still receives. */
async function expectEdgeStillServes(extra: Partial<RawClientOptions> = {}): Promise<void> {
  const sessionId = await newSession();
  const client = await RawClient.connect(env.edge.url, {
    sessionId,
    token: await tokenFor(sessionId),
    ...extra,
  });
  try {
    expect(client.connectError).toBeUndefined();
    expect(client.hellos).toHaveLength(1);
    const { epoch } = await env.log.append(sessionId, { probe: sessionId });
    await client.waitForOffset(1);
    expect(client.delivered).toEqual([{ epoch, offset: 1, data: { probe: sessionId } }]);
  } finally {
    client.close();
  }
  await env.expectStillServing();
}

/** The handshake is refused with `code` (as the error message and as data.code), then the edge still serves. */
async function expectRejected(options: RawClientOptions, code: ErrorCode): Promise<void> {
  await env.expectRefused(options, code);
}

interface RejectionCase {
  readonly name: string;
  readonly code: ErrorCode;
  /** Client options for an existing session `sessionId` (with epoch `epoch`). */
  readonly options: (sessionId: string) => Promise<RawClientOptions>;
}

const handshakeCases: RejectionCase[] = [
  {
    name: 'protocol version 5 (newer than this edge speaks)',
    code: ErrorCode.UnsupportedProtocol,
    options: async (sessionId) => ({ sessionId, token: await tokenFor(sessionId), auth: { v: 5 } }),
  },
  {
    name: 'instance and attempt in a version 3 handshake',
    code: ErrorCode.InvalidHandshake,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { v: 3, instance: 'tab-1', attempt: 1 },
    }),
  },
  {
    name: 'an instance with a space and an attempt of 0',
    code: ErrorCode.InvalidHandshake,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { v: 4, instance: 'tab 1', attempt: 0 },
    }),
  },
  {
    name: 'an attempt without an instance',
    code: ErrorCode.InvalidHandshake,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { v: 4, attempt: 2 },
    }),
  },
  {
    name: "start: 'oldest' in a version 2 handshake",
    code: ErrorCode.InvalidHandshake,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { v: 2, start: 'oldest' },
    }),
  },
  {
    name: 'start together with a position',
    code: ErrorCode.InvalidHandshake,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { start: 'oldest', position: { epoch: 'E', offset: 1 } },
    }),
  },
  {
    name: 'protocol version missing',
    code: ErrorCode.UnsupportedProtocol,
    options: async (sessionId) => ({ sessionId, token: await tokenFor(sessionId), auth: { v: undefined } }),
  },
  {
    name: 'protocol version as a string',
    code: ErrorCode.UnsupportedProtocol,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { v: String(PROTOCOL_VERSION) },
    }),
  },
  {
    name: "session id 'a{b}'",
    code: ErrorCode.InvalidSessionId,
    options: async (sessionId) => ({ sessionId: 'a{b}', token: await tokenFor(sessionId) }),
  },
  {
    name: 'session id that is an object',
    code: ErrorCode.InvalidSessionId,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { sessionId: { id: sessionId } },
    }),
  },
  {
    name: 'session id missing',
    code: ErrorCode.InvalidSessionId,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { sessionId: undefined },
    }),
  },
  {
    name: 'session id of 65 characters',
    code: ErrorCode.InvalidSessionId,
    options: async (sessionId) => ({ sessionId: 'x'.repeat(65), token: await tokenFor(sessionId) }),
  },
];

describe.each([['handshake payload', handshakeCases]])('rejects a bad %s', (_kind, cases) => {
  it.each(cases)('$name → $code', async ({ options, code }) => {
    const sessionId = uniqueId();
    await env.log.createSession(sessionId);
    await env.log.append(sessionId, { n: 1 });
    await expectRejected(await options(sessionId), code);
  });
});

describe('rejects sessions that cannot be served', () => {
  it('unknown session id → session_not_found', async () => {
    const sessionId = uniqueId();
    await expectRejected({ sessionId, token: await tokenFor(sessionId) }, ErrorCode.SessionNotFound);
  });

  it('ended session → session_ended', async () => {
    const sessionId = await newSession();
    await env.log.append(sessionId, { n: 1 });
    await env.log.endSession(sessionId);
    await expectRejected({ sessionId, token: await tokenFor(sessionId) }, ErrorCode.SessionEnded);
  });
});

it('closes a connection whose handshake auth is not an object (refused by the Socket.IO parser)', async () => {
  // The edge's own `invalid_handshake` check never sees such a payload: Socket.IO drops the
  // connection while decoding the CONNECT packet. Whatever the layer, no session is served.
  const sessionId = await newSession();
  const socket = io(env.edge.url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: (cb) => cb(`v=${PROTOCOL_VERSION}&sessionId=${sessionId}` as unknown as object),
  });
  const seen: string[] = [];
  socket.onAny((event: string) => seen.push(event));
  let closed: string | undefined;
  socket.on('connect_error', (error: Error) => (closed = `connect_error: ${error.message}`));
  socket.on('disconnect', (reason) => (closed = `disconnect: ${reason}`));
  try {
    await waitFor(() => closed, { what: 'the edge to close the connection' });
    expect(socket.connected).toBe(false);
    expect(seen).toEqual([]);
  } finally {
    socket.close();
  }
  await expectEdgeStillServes();
});

describe('Origin check', () => {
  interface UpgradeOutcome {
    readonly status: number;
    readonly body: string;
    readonly upgraded: boolean;
  }

  /** A bare WebSocket upgrade request for the Socket.IO endpoint, as a browser would send it. */
  function upgradeRequest(origin: string): Promise<UpgradeOutcome> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: env.edge.port,
        path: '/socket.io/?EIO=4&transport=websocket',
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
          'Sec-WebSocket-Version': '13',
          Origin: origin,
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, body: '', upgraded: true });
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, upgraded: false }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('a client from a foreign Origin cannot connect', async () => {
    const sessionId = await newSession();
    const client = await RawClient.connect(env.edge.url, {
      sessionId,
      token: await tokenFor(sessionId),
      extraHeaders: { origin: FOREIGN_ORIGIN },
    });
    try {
      // Refused before the WebSocket exists: socket.io-client only sees a transport error.
      expect(client.connectError).toBeDefined();
      expect(client.connectError?.message).toBe('websocket error');
      expect(client.connectError?.data).toBeUndefined();
      expect(client.hellos).toEqual([]);
      expect(client.socket.connected).toBe(false);
    } finally {
      client.close();
    }
    await expectEdgeStillServes();
  });

  it('refuses a WebSocket upgrade from a foreign Origin with origin_not_allowed', async () => {
    const outcome = await upgradeRequest(FOREIGN_ORIGIN);
    expect(outcome.upgraded).toBe(false);
    expect(outcome.body).toContain(ErrorCode.OriginNotAllowed);
    await expectEdgeStillServes();
  });

  // engine.io answers every refused upgrade with 400; the edge answers a foreign Origin itself.
  it('answers a WebSocket upgrade from a foreign Origin with HTTP 403', async () => {
    const outcome = await upgradeRequest(FOREIGN_ORIGIN);
    expect(outcome.status).toBe(403);
  });

  it('upgrades a WebSocket from the allowed Origin', async () => {
    const outcome = await upgradeRequest(ALLOWED_ORIGIN);
    expect(outcome).toEqual({ status: 101, body: '', upgraded: true });
  });

  it('serves a client from the allowed Origin', async () => {
    await expectEdgeStillServes({ extraHeaders: { origin: ALLOWED_ORIGIN } });
  });
});

describe('slow and unfinished handshakes', () => {
  it('answers HTTP headers trickled slower than HANDSHAKE_TIMEOUT_MS (slowloris) with 408 handshake_timeout', async () => {
    const socket = tcpConnect(env.edge.port, '127.0.0.1');
    let answer = '';
    let closedAt: number | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => (closedAt = Date.now()));
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const startedAt = Date.now();
    socket.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // One more header line every 200 ms, never the blank line that ends them.
    let n = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(`X-Slow-${n++}: ${'x'.repeat(8)}\r\n`);
    }, 200);
    try {
      await waitFor(() => closedAt, { timeoutMs: HANDSHAKE_TIMEOUT_MS + 5000, what: 'the edge to close it' });
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: ErrorCode.HandshakeTimeout,
    });
    expect(closedAt! - startedAt).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 100);
    await env.expectStillServing();
  });

  it('an Engine.IO connection that never joins the namespace gets handshake_timeout, then is closed', async () => {
    const wire = await WireClient.open(env.edge.url);
    try {
      const refusal = await waitFor(() => wire.connectError(), {
        timeoutMs: HANDSHAKE_TIMEOUT_MS + 5000,
        what: 'CONNECT_ERROR',
      });
      expect(refusal).toMatchObject({ code: ErrorCode.HandshakeTimeout, message: expect.any(String) });
      await wire.waitForClose();
    } finally {
      wire.close();
    }
    await env.expectStillServing();
  });

  it('a connection whose handshake was refused cannot linger: it is closed at the deadline too', async () => {
    const wire = await WireClient.open(env.edge.url);
    try {
      const refused = await wire.join({ sessionId: 'no-such-session', token: 'x' });
      expect(refused.type).toBe(4);
      expect(wire.connectError()?.code).toBe(ErrorCode.TokenInvalid);
      await wire.waitForClose(HANDSHAKE_TIMEOUT_MS + 5000);
    } finally {
      wire.close();
    }
    await env.expectStillServing();
  });

  it('a session connection outlives HANDSHAKE_TIMEOUT_MS: the deadline is for handshakes only', async () => {
    const sessionId = await newSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token: await tokenFor(sessionId) });
    try {
      const since = Date.now();
      await waitFor(() => Date.now() - since > HANDSHAKE_TIMEOUT_MS * 2, {
        timeoutMs: HANDSHAKE_TIMEOUT_MS * 4,
        intervalMs: 100,
        what: 'twice the handshake deadline',
      });
      await env.log.append(sessionId, { late: true });
      await client.waitForOffset(1);
      expect(client.disconnectReason).toBeUndefined();
    } finally {
      client.close();
    }
  });
});
