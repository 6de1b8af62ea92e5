import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import { createTokenIssuer } from '@holdfast/auth';
import { ErrorCode, PROTOCOL_VERSION } from '@holdfast/protocol';
import { TEST_TOKEN_SECRET } from '../../helpers/edge-process.js';
import { useEdgeEnvironment } from '../../helpers/edge-fixture.js';
import { RawClient, type RawClientOptions } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { tokenFor } from '../../helpers/tokens.js';
import { waitFor } from '../../helpers/wait-for.js';

const ALLOWED_ORIGIN = 'https://app.example';
const FOREIGN_ORIGIN = 'https://evil.example';

// ALLOW_MISSING_ORIGIN stays at its default (true): the Node clients below send no Origin.
const env = useEdgeEnvironment({ edgeEnv: { ALLOWED_ORIGINS: ALLOWED_ORIGIN } });

const secretKey = new TextEncoder().encode(TEST_TOKEN_SECRET);
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A token signed with the edge's secret but with claims chosen by the test. */
function signToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secretKey);
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function newSession(): Promise<string> {
  const sessionId = uniqueId();
  await env.log.createSession(sessionId);
  return sessionId;
}

/** A valid client on a fresh session connects and receives a message: the edge keeps serving. */
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
}

/** The handshake is refused with `code` (as the error message and as data.code), then the edge still serves. */
async function expectRejected(options: RawClientOptions, code: ErrorCode): Promise<void> {
  const client = await RawClient.connect(env.edge.url, options);
  try {
    expect(client.hellos).toEqual([]);
    expect(client.delivered).toEqual([]);
    expect(client.connectError?.message).toBe(code);
    expect(client.connectError?.data?.code).toBe(code);
    expect(client.connectError?.data?.message).toEqual(expect.any(String));
  } finally {
    client.close();
  }
  await expectEdgeStillServes();
}

interface RejectionCase {
  readonly name: string;
  readonly code: ErrorCode;
  /** Client options for an existing session `sessionId` (with epoch `epoch`). */
  readonly options: (sessionId: string, epoch: string) => Promise<RawClientOptions>;
}

const tokenCases: RejectionCase[] = [
  {
    name: 'missing token',
    code: ErrorCode.TokenMissing,
    options: async (sessionId) => ({ sessionId, token: '', auth: { token: undefined } }),
  },
  {
    name: 'empty token',
    code: ErrorCode.TokenMissing,
    options: async (sessionId) => ({ sessionId, token: '' }),
  },
  {
    name: 'garbage token',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({ sessionId, token: 'not-a-token' }),
  },
  {
    name: 'garbage token with three parts',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({ sessionId, token: 'aaa.bbb.ccc' }),
  },
  {
    name: 'non-string token',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({ sessionId, token: '', auth: { token: 12345 } }),
  },
  {
    name: 'forged signature (signed with another secret)',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => {
      const forger = createTokenIssuer({ algorithm: 'HS256', secret: `another-${TEST_TOKEN_SECRET}` });
      return { sessionId, token: (await forger.issue({ sessionId })).token };
    },
  },
  {
    name: 'expired token',
    code: ErrorCode.TokenExpired,
    options: async (sessionId) => ({
      sessionId,
      token: await signToken({
        sid: sessionId,
        aud: 'holdfast',
        iat: nowSeconds() - 7200,
        exp: nowSeconds() - 3600,
      }),
    }),
  },
  {
    name: 'not-yet-valid token (nbf one hour ahead)',
    code: ErrorCode.TokenNotYetValid,
    options: async (sessionId) => ({
      sessionId,
      token: await signToken({
        sid: sessionId,
        aud: 'holdfast',
        iat: nowSeconds(),
        nbf: nowSeconds() + 3600,
        exp: nowSeconds() + 7200,
      }),
    }),
  },
  {
    name: 'wrong audience',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({
      sessionId,
      token: await signToken({
        sid: sessionId,
        aud: 'not-holdfast',
        iat: nowSeconds(),
        exp: nowSeconds() + 600,
      }),
    }),
  },
  {
    name: 'token without exp',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({
      sessionId,
      token: await signToken({ sid: sessionId, aud: 'holdfast', iat: nowSeconds() }),
    }),
  },
  {
    name: 'unsigned token (alg none)',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({
      sessionId,
      token: `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({
        sid: sessionId,
        aud: 'holdfast',
        iat: nowSeconds(),
        exp: nowSeconds() + 600,
      })}.`,
    }),
  },
  // HS256/RS256 algorithm confusion is covered by the auth unit tests.
  {
    name: 'token for another session',
    code: ErrorCode.TokenWrongSession,
    options: async (sessionId) => ({ sessionId, token: await tokenFor(await newSession()) }),
  },
  {
    name: 'token only in the query string (the query is ignored)',
    code: ErrorCode.TokenMissing,
    options: async (sessionId) => ({
      sessionId,
      token: '',
      auth: { token: undefined },
      query: { token: await tokenFor(sessionId) },
    }),
  },
];

const handshakeCases: RejectionCase[] = [
  {
    name: 'protocol version 2',
    code: ErrorCode.UnsupportedProtocol,
    options: async (sessionId) => ({ sessionId, token: await tokenFor(sessionId), auth: { v: 2 } }),
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

const positionCases: RejectionCase[] = [
  {
    name: 'negative offset',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch, offset: -1 },
    }),
  },
  {
    name: 'fractional offset',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch, offset: 1.5 },
    }),
  },
  {
    name: 'huge offset (2**60, not a safe integer)',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch, offset: 2 ** 60 },
    }),
  },
  {
    name: 'offset as a string',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { position: { epoch, offset: '1' } },
    }),
  },
  {
    name: 'position without epoch',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { position: { offset: 1 } },
    }),
  },
  {
    name: 'position with an empty epoch',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch: '', offset: 1 },
    }),
  },
  {
    name: 'position that is a string',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId) => ({ sessionId, token: await tokenFor(sessionId), auth: { position: '5' } }),
  },
  {
    name: 'position that is an array',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { position: [epoch, 1] },
    }),
  },
];

describe.each([
  ['token', tokenCases],
  ['handshake payload', handshakeCases],
  ['position', positionCases],
])('rejects a bad %s', (_kind, cases) => {
  it.each(cases)('$name → $code', async ({ options, code }) => {
    const sessionId = uniqueId();
    const { epoch } = await env.log.createSession(sessionId);
    await env.log.append(sessionId, { n: 1 });
    await expectRejected(await options(sessionId, epoch), code);
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
