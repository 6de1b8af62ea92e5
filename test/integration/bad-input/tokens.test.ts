import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { createTokenIssuer } from '@holdfast/auth';
import { ErrorCode } from '@holdfast/protocol';
import { TEST_TOKEN_SECRET, tokenFor, waitFor } from '@holdfast/testing';
import { RawClient, assertContiguous, type RawClientOptions } from '../../helpers/raw-client.js';
import { useBadInputEnvironment } from './bad-input-fixture.js';

// The edge verifies HS256 (the tests' secret) and RS256 (this key pair) at once: the setting in
// which algorithm confusion is possible at all.
const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const env = useBadInputEnvironment({
  edgeEnv: { TOKEN_PUBLIC_KEY: rsa.publicKey, TOKEN_PUBLIC_KEY_ALG: 'RS256' },
});
const rsaIssuer = createTokenIssuer({ algorithm: 'RS256', privateKey: rsa.privateKey });

const secretKey = new TextEncoder().encode(TEST_TOKEN_SECRET);
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A token signed with the edge's secret but with claims chosen by the test. */
function signToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secretKey);
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A JWT with any header, HMAC-SHA256-signed with `secret` (which jose would refuse to do with a PEM). */
function signRawHs256(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  secret: string,
): string {
  const input = `${base64url(header)}.${base64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const validClaims = (sessionId: string): Record<string, unknown> => ({
  sid: sessionId,
  aud: 'holdfast',
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
});

interface TokenCase {
  readonly name: string;
  readonly code: ErrorCode;
  readonly options: (sessionId: string) => Promise<RawClientOptions>;
}

const tokenCases: TokenCase[] = [
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
    name: 'token over 8 KiB',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({ sessionId, token: `${'a'.repeat(9000)}.b.c` }),
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
      token: await signToken({ ...validClaims(sessionId), aud: 'not-holdfast' }),
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
      token: `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(validClaims(sessionId))}.`,
    }),
  },
  {
    name: 'unsigned token (alg None, keeping a signature part)',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({
      sessionId,
      token: `${base64url({ alg: 'None' })}.${base64url(validClaims(sessionId))}.c2ln`,
    }),
  },
  {
    name: 'HS/RS confusion: HS256 signed with the RSA public key PEM as the HMAC secret',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({
      sessionId,
      token: signRawHs256({ alg: 'HS256', typ: 'JWT' }, validClaims(sessionId), rsa.publicKey),
    }),
  },
  {
    name: 'HS/RS confusion: an RS256 signature relabelled HS256',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => {
      const [, payload, signature] = (await rsaIssuer.issue({ sessionId })).token.split('.');
      return { sessionId, token: `${base64url({ alg: 'HS256' })}.${payload}.${signature}` };
    },
  },
  {
    name: 'an algorithm no key uses (HS512)',
    code: ErrorCode.TokenInvalid,
    options: async (sessionId) => ({
      sessionId,
      token: await new SignJWT(validClaims(sessionId))
        .setProtectedHeader({ alg: 'HS512' })
        .sign(new TextEncoder().encode(TEST_TOKEN_SECRET + TEST_TOKEN_SECRET)),
    }),
  },
  {
    name: 'token for another session',
    code: ErrorCode.TokenWrongSession,
    options: async (sessionId) => ({ sessionId, token: await tokenFor(await env.createSession()) }),
  },
  {
    name: 'RS256 token for another session',
    code: ErrorCode.TokenWrongSession,
    options: async (sessionId) => ({
      sessionId,
      token: (await rsaIssuer.issue({ sessionId: await env.createSession() })).token,
    }),
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

describe('bad tokens at the handshake', () => {
  it.each(tokenCases)('$name → $code', async ({ options, code }) => {
    const sessionId = await env.createSession();
    await env.log.append(sessionId, { n: 1 });
    await env.expectRefused(await options(sessionId), code);
  });

  it('a valid RS256 token is accepted (the refusals above are about the tokens, not the key)', async () => {
    const sessionId = await env.createSession();
    const client = await RawClient.connect(env.edge.url, {
      sessionId,
      token: (await rsaIssuer.issue({ sessionId })).token,
    });
    try {
      expect(client.connectError).toBeUndefined();
      expect(client.hellos).toHaveLength(1);
    } finally {
      client.close();
    }
    await env.expectStillServing();
  });

  it('a token in the query string next to a bad one in auth changes nothing: auth alone counts', async () => {
    const sessionId = await env.createSession();
    await env.expectRefused(
      { sessionId, token: 'not-a-token', query: { token: await tokenFor(sessionId) } },
      ErrorCode.TokenInvalid,
    );
  });
});

describe('token lifetime on a live connection', () => {
  it('refreshes a token that is about to expire without losing its place; bad refreshes are refused', async () => {
    const sessionId = await env.createSession();
    const client = await RawClient.connect(env.edge.url, {
      sessionId,
      token: await tokenFor(sessionId, { ttlSeconds: 2 }),
    });
    try {
      await env.log.append(sessionId, 1);
      await client.waitForOffset(1);
      const refusals = [
        await client.socket.emitWithAck('token', { token: 'not-a-jwt' }),
        await client.socket.emitWithAck('token', { token: await tokenFor(await env.createSession()) }),
        await client.socket.emitWithAck('token', {
          token: await tokenFor(sessionId, { consumerId: 'someone-else' }),
        }),
        await client.socket.emitWithAck('token', {}),
      ];
      expect(refusals.map((r: { code?: string }) => r.code)).toEqual([
        ErrorCode.TokenInvalid,
        ErrorCode.TokenWrongSession,
        ErrorCode.TokenWrongSession,
        ErrorCode.TokenMissing,
      ]);
      expect(
        await client.socket.emitWithAck('token', { token: await tokenFor(sessionId, { ttlSeconds: 60 }) }),
      ).toMatchObject({ ok: true });

      const firstExpiry = client.hellos[0]!.tokenExpiresAt;
      await waitFor(() => Date.now() > firstExpiry + 500, { timeoutMs: 5000, what: 'first token expiry' });
      await env.log.append(sessionId, 2);
      await client.waitForOffset(2);
      expect(client.socket.connected).toBe(true);
      expect(client.notices).toEqual([]);
      assertContiguous(client.delivered, 1, 2);
    } finally {
      client.close();
    }
    await env.expectStillServing();
  });

  it('an unrefreshed token ends the connection with token_expired; a fresh token resumes at its place', async () => {
    const sessionId = await env.createSession();
    const client = await RawClient.connect(env.edge.url, {
      sessionId,
      token: await tokenFor(sessionId, { ttlSeconds: 2 }),
    });
    await env.log.append(sessionId, 1);
    await client.waitForOffset(1);
    await waitFor(() => client.notice('fault'), { timeoutMs: 5000, what: 'token_expired notice' });
    expect(client.notice('fault')).toMatchObject({ code: ErrorCode.TokenExpired });
    expect(await client.waitForDisconnect()).toBe('io server disconnect');
    await env.log.append(sessionId, 2);

    const resumed = await RawClient.connect(env.edge.url, {
      sessionId,
      token: await tokenFor(sessionId),
      ...(client.position ? { position: client.position } : {}),
    });
    try {
      await resumed.waitForOffset(2);
      assertContiguous(resumed.delivered, 2, 2);
      expect(resumed.resets).toEqual([]);
    } finally {
      resumed.close();
    }
    await env.expectStillServing();
  });
});
