import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type JWTPayload,
} from 'jose';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import {
  createTokenIssuer,
  createTokenVerifier,
  generateDevSecret,
  MAX_TOKEN_LENGTH,
  type AsymmetricAlgorithm,
  type IssuerConfig,
  type VerifierConfig,
} from '@holdfast/auth';

const SECRET = 'a'.repeat(16) + 'b'.repeat(16) + '-test-secret';
const OTHER_SECRET = 'z'.repeat(40);
const encoder = new TextEncoder();

interface PemKeyPair {
  privateKey: string;
  publicKey: string;
}

async function pemKeyPair(algorithm: AsymmetricAlgorithm): Promise<PemKeyPair> {
  const pair = await generateKeyPair(algorithm, { extractable: true });
  return { privateKey: await exportPKCS8(pair.privateKey), publicKey: await exportSPKI(pair.publicKey) };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs arbitrary claims with HS256, bypassing the issuer's input checks. */
function signRaw(claims: JWTPayload, secret = SECRET, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .sign(encoder.encode(secret));
}

function validClaims(overrides: JWTPayload = {}): JWTPayload {
  const iat = nowSeconds();
  return { sid: 'session-1', aud: 'holdfast', iat, exp: iat + 600, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<HoldfastError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HoldfastError);
  return error as HoldfastError;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<HoldfastError> {
  const error = await rejection(promise);
  expect(error.code).toBe(code);
  return error;
}

function expectThrowsCode(fn: () => unknown, code: ErrorCode): HoldfastError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(HoldfastError);
  expect((caught as HoldfastError).code).toBe(code);
  return caught as HoldfastError;
}

const hsIssuer = (extra: Partial<IssuerConfig> = {}) =>
  createTokenIssuer({ algorithm: 'HS256', secret: SECRET, ...extra } as IssuerConfig);
const hsVerifier = (extra: Partial<VerifierConfig> = {}) =>
  createTokenVerifier({ hs256Secrets: [SECRET], ...extra });

describe('HS256', () => {
  it('round-trips session id, consumer id and expiry', async () => {
    const before = Date.now();
    const { token, expiresAt } = await hsIssuer().issue({ sessionId: 'session-1', consumerId: 'phone_2' });

    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sid: 'session-1', cid: 'phone_2', aud: 'holdfast' });
    expect(claims.exp).toBe((claims.iat ?? 0) + 3600);
    expect(claims.iss).toBeUndefined();

    const verified = await hsVerifier().verify(token, { sessionId: 'session-1' });
    expect(verified).toEqual({ sessionId: 'session-1', consumerId: 'phone_2', expiresAt });
  });

  it('leaves consumerId undefined when the token has no cid and honours ttlSeconds', async () => {
    const { token, expiresAt } = await hsIssuer().issue({ sessionId: 's', ttlSeconds: 60 });
    const verified = await hsVerifier().verify(token);
    expect(verified.consumerId).toBeUndefined();
    expect(verified.expiresAt).toBe(expiresAt);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it('verifies with the old secret while both are configured (rotation)', async () => {
    const { token } = await hsIssuer().issue({ sessionId: 'session-1' });

    const rotating = createTokenVerifier({ hs256Secrets: [OTHER_SECRET, SECRET] });
    await expect(rotating.verify(token)).resolves.toMatchObject({ sessionId: 'session-1' });

    const rotated = createTokenVerifier({ hs256Secrets: [OTHER_SECRET] });
    await expectCode(rotated.verify(token), ErrorCode.TokenInvalid);
  });

  it('works with a generated dev secret', async () => {
    const secret = generateDevSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateDevSecret()).not.toBe(secret);
    const { token } = await createTokenIssuer({ algorithm: 'HS256', secret }).issue({ sessionId: 'dev' });
    await expect(createTokenVerifier({ hs256Secrets: [secret] }).verify(token)).resolves.toMatchObject({
      sessionId: 'dev',
    });
  });
});

describe.each(['RS256', 'ES256', 'EdDSA'] as const)('%s', (algorithm) => {
  it('round-trips with a PKCS#8 private key and an SPKI public key, writing kid', async () => {
    const keys = await pemKeyPair(algorithm);
    const issuer = createTokenIssuer({ algorithm, privateKey: keys.privateKey, keyId: 'key-1' });
    const { token, expiresAt } = await issuer.issue({ sessionId: 'session-1', consumerId: 'c1' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: algorithm, typ: 'JWT', kid: 'key-1' });

    const verifier = createTokenVerifier({
      publicKeys: [{ algorithm, publicKey: keys.publicKey, keyId: 'key-1' }],
    });
    await expect(verifier.verify(token, { sessionId: 'session-1' })).resolves.toEqual({
      sessionId: 'session-1',
      consumerId: 'c1',
      expiresAt,
    });
  });

  it('rejects a token signed by a different key pair', async () => {
    const [signing, configured] = await Promise.all([pemKeyPair(algorithm), pemKeyPair(algorithm)]);
    const { token } = await createTokenIssuer({ algorithm, privateKey: signing.privateKey }).issue({
      sessionId: 'session-1',
    });
    const verifier = createTokenVerifier({ publicKeys: [{ algorithm, publicKey: configured.publicKey }] });
    await expectCode(verifier.verify(token), ErrorCode.TokenInvalid);
  });
});

describe('key ids', () => {
  it('selects the key the kid names, and refuses a kid naming no configured key', async () => {
    const [k1, k2] = await Promise.all([pemKeyPair('ES256'), pemKeyPair('ES256')]);
    const verifier = createTokenVerifier({
      publicKeys: [
        { algorithm: 'ES256', publicKey: k1.publicKey, keyId: 'k1' },
        { algorithm: 'ES256', publicKey: k2.publicKey, keyId: 'k2' },
      ],
    });

    const fromK2 = await createTokenIssuer({
      algorithm: 'ES256',
      privateKey: k2.privateKey,
      keyId: 'k2',
    }).issue({
      sessionId: 's2',
    });
    await expect(verifier.verify(fromK2.token)).resolves.toMatchObject({ sessionId: 's2' });

    const unknownKid = await createTokenIssuer({
      algorithm: 'ES256',
      privateKey: k2.privateKey,
      keyId: 'k3',
    }).issue({ sessionId: 's2' });
    const error = await expectCode(verifier.verify(unknownKid.token), ErrorCode.TokenInvalid);
    expect(error.message).toContain('"k3"');
  });

  it('checks a kid-selected key only: k1 signing under the label k2 fails', async () => {
    const [k1, k2] = await Promise.all([pemKeyPair('ES256'), pemKeyPair('ES256')]);
    const verifier = createTokenVerifier({
      publicKeys: [
        { algorithm: 'ES256', publicKey: k1.publicKey, keyId: 'k1' },
        { algorithm: 'ES256', publicKey: k2.publicKey, keyId: 'k2' },
      ],
    });
    const mislabelled = await createTokenIssuer({
      algorithm: 'ES256',
      privateKey: k1.privateKey,
      keyId: 'k2',
    }).issue({ sessionId: 's1' });
    await expectCode(verifier.verify(mislabelled.token), ErrorCode.TokenInvalid);
  });

  it('tries every key of the algorithm when the token has no kid', async () => {
    const [k1, k2] = await Promise.all([pemKeyPair('EdDSA'), pemKeyPair('EdDSA')]);
    const verifier = createTokenVerifier({
      publicKeys: [
        { algorithm: 'EdDSA', publicKey: k1.publicKey, keyId: 'k1' },
        { algorithm: 'EdDSA', publicKey: k2.publicKey, keyId: 'k2' },
      ],
    });
    const { token } = await createTokenIssuer({ algorithm: 'EdDSA', privateKey: k2.privateKey }).issue({
      sessionId: 's',
    });
    await expect(verifier.verify(token)).resolves.toMatchObject({ sessionId: 's' });
  });
});

describe('signatures and algorithms', () => {
  it('rejects a token signed with an unknown secret', async () => {
    const forged = await signRaw(validClaims(), OTHER_SECRET);
    const error = await expectCode(hsVerifier().verify(forged), ErrorCode.TokenInvalid);
    expect(error.message).toMatch(/signature/);
  });

  it('rejects a genuine signature over a modified payload', async () => {
    const { token } = await hsIssuer().issue({ sessionId: 'session-1' });
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${base64url(validClaims({ sid: 'session-2' }))}.${signature}`;
    await expectCode(hsVerifier().verify(tampered), ErrorCode.TokenInvalid);
  });

  it('rejects alg none', async () => {
    const { publicKey } = await pemKeyPair('RS256');
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(validClaims())}.`;
    const verifier = createTokenVerifier({
      hs256Secrets: [SECRET],
      publicKeys: [{ algorithm: 'RS256', publicKey }],
    });
    const error = await expectCode(verifier.verify(unsigned), ErrorCode.TokenInvalid);
    expect(error.message).toContain('none');
    await expectCode(
      hsVerifier().verify(`${base64url({ alg: 'None' })}.${base64url(validClaims())}.`),
      'token_invalid',
    );
  });

  it('rejects HS256 signed with the RSA public key PEM as the HMAC secret (algorithm confusion)', async () => {
    const { publicKey } = await pemKeyPair('RS256');
    const confused = await signRaw(validClaims(), publicKey);

    const rsaOnly = createTokenVerifier({ publicKeys: [{ algorithm: 'RS256', publicKey }] });
    const error = await expectCode(rsaOnly.verify(confused), ErrorCode.TokenInvalid);
    expect(error.message).toContain('"HS256" is not accepted');

    const mixed = createTokenVerifier({
      hs256Secrets: [SECRET],
      publicKeys: [{ algorithm: 'RS256', publicKey }],
    });
    await expectCode(mixed.verify(confused), ErrorCode.TokenInvalid);
  });

  it('rejects an algorithm no configured key uses', async () => {
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: 'HS512' })
      .sign(encoder.encode(SECRET + SECRET));
    await expectCode(hsVerifier().verify(token), ErrorCode.TokenInvalid);
  });
});

describe('time claims', () => {
  it('rejects an expired token with expiredAt', async () => {
    const exp = nowSeconds() - 60;
    const expired = await signRaw(validClaims({ iat: exp - 600, exp }));
    const error = await expectCode(hsVerifier().verify(expired), ErrorCode.TokenExpired);
    expect(error.details).toEqual({ expiredAt: exp * 1000 });
    expect(error.retryable).toBe(false);
  });

  it('accepts a token expired within the clock tolerance', async () => {
    const justExpired = await signRaw(validClaims({ exp: nowSeconds() - 2 }));
    await expect(hsVerifier().verify(justExpired)).resolves.toMatchObject({ sessionId: 'session-1' });
    await expectCode(hsVerifier({ clockToleranceSeconds: 0 }).verify(justExpired), ErrorCode.TokenExpired);
  });

  it('rejects a token whose notBefore is beyond the tolerance, and accepts one within it', async () => {
    const issuer = hsIssuer();
    const later = await issuer.issue({ sessionId: 's', notBefore: new Date(Date.now() + 60_000) });
    const error = await expectCode(hsVerifier().verify(later.token), ErrorCode.TokenNotYetValid);
    expect(error.details?.['notBefore']).toBe((decodeJwt(later.token).nbf ?? 0) * 1000);

    const soon = await issuer.issue({ sessionId: 's', notBefore: new Date(Date.now() + 2000) });
    await expect(hsVerifier().verify(soon.token)).resolves.toMatchObject({ sessionId: 's' });
  });

  it('rejects a token without exp', async () => {
    const { exp: _exp, ...claims } = validClaims();
    await expectCode(hsVerifier().verify(await signRaw(claims)), ErrorCode.TokenInvalid);
  });

  it('rejects a non-numeric exp', async () => {
    await expectCode(
      hsVerifier().verify(await signRaw(validClaims({ exp: 'tomorrow' as never }))),
      'token_invalid',
    );
  });
});

describe('audience and issuer', () => {
  it('rejects a token for another audience', async () => {
    const { token } = await hsIssuer({ audience: 'other-service' }).issue({ sessionId: 's' });
    await expectCode(hsVerifier().verify(token), ErrorCode.TokenInvalid);
    await expect(hsVerifier({ audience: 'other-service' }).verify(token)).resolves.toMatchObject({
      sessionId: 's',
    });
  });

  it('rejects a token without aud', async () => {
    const { aud: _aud, ...claims } = validClaims();
    await expectCode(hsVerifier().verify(await signRaw(claims)), ErrorCode.TokenInvalid);
  });

  it('rejects a wrong or missing issuer when one is configured', async () => {
    const verifier = hsVerifier({ issuer: 'https://api.holdfast.example' });
    const { token: right } = await hsIssuer({ issuer: 'https://api.holdfast.example' }).issue({
      sessionId: 's',
    });
    await expect(verifier.verify(right)).resolves.toMatchObject({ sessionId: 's' });
    expect(decodeJwt(right).iss).toBe('https://api.holdfast.example');

    const { token: wrong } = await hsIssuer({ issuer: 'https://evil.example' }).issue({ sessionId: 's' });
    await expectCode(verifier.verify(wrong), ErrorCode.TokenInvalid);

    const { token: none } = await hsIssuer().issue({ sessionId: 's' });
    await expectCode(verifier.verify(none), ErrorCode.TokenInvalid);
  });
});

describe('session claims', () => {
  it('rejects a token for another session', async () => {
    const { token } = await hsIssuer().issue({ sessionId: 'session-1' });
    await expectCode(hsVerifier().verify(token, { sessionId: 'session-2' }), ErrorCode.TokenWrongSession);
  });

  it.each(['a{b}', 'a:b', 'a\nb', '', 'x'.repeat(65)])('rejects a signed sid of %j', async (sid) => {
    const token = await signRaw(validClaims({ sid }));
    const error = await expectCode(hsVerifier().verify(token), ErrorCode.TokenInvalid);
    expect(error.message).toContain('"sid"');
  });

  it('rejects a missing or non-string sid', async () => {
    const { sid: _sid, ...claims } = validClaims();
    await expectCode(hsVerifier().verify(await signRaw(claims)), ErrorCode.TokenInvalid);
    await expectCode(hsVerifier().verify(await signRaw(validClaims({ sid: 42 }))), ErrorCode.TokenInvalid);
  });

  it('rejects a signed cid that is not a consumer id', async () => {
    const token = await signRaw(validClaims({ cid: 'a:b' }));
    const error = await expectCode(hsVerifier().verify(token), ErrorCode.TokenInvalid);
    expect(error.message).toContain('"cid"');
  });

  it('refuses to issue tokens for invalid ids', async () => {
    const issuer = hsIssuer();
    await expectCode(issuer.issue({ sessionId: 'a{b}' }), ErrorCode.InvalidSessionId);
    await expectCode(issuer.issue({ sessionId: 'a:b' }), ErrorCode.InvalidSessionId);
    await expectCode(issuer.issue({ sessionId: 's', consumerId: 'a\nb' }), ErrorCode.InvalidConsumerId);
  });
});

describe('malformed input', () => {
  it.each([undefined, null, '', 42, {}, ['a.b.c']])('treats %j as a missing token', async (token) => {
    await expectCode(hsVerifier().verify(token), ErrorCode.TokenMissing);
  });

  it.each([
    'garbage',
    'a.b.c',
    '..',
    'a.b.c.d.e',
    'Bearer abc.def.ghi',
    `${base64url('just a string')}.${base64url(validClaims())}.sig`,
    `${base64url({ typ: 'JWT' })}.${base64url(validClaims())}.sig`,
    `${base64url({ alg: 'HS256', kid: 7 })}.${base64url(validClaims())}.sig`,
    `${base64url({ alg: 'HS256' })}.not-json.sig`,
    '{"alg":"HS256"}.{}.x',
  ])('rejects %j as invalid', async (token) => {
    await expectCode(hsVerifier().verify(token), ErrorCode.TokenInvalid);
  });

  it('rejects a token over 8 KiB before parsing, without echoing it', async () => {
    const junk = 'x'.repeat(10 * 1024);
    const error = await expectCode(hsVerifier().verify(junk), ErrorCode.TokenInvalid);
    expect(error.message).not.toContain('xxxxxxxxxx');

    const bigButSigned = await signRaw(validClaims({ padding: 'p'.repeat(10 * 1024) }));
    expect(bigButSigned.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    await expectCode(hsVerifier().verify(bigButSigned), ErrorCode.TokenInvalid);
  });

  it('never echoes the token in error messages', async () => {
    const { token } = await hsIssuer().issue({ sessionId: 'session-1' });
    const signature = token.split('.')[2] ?? '';
    const failures = await Promise.all([
      rejection(createTokenVerifier({ hs256Secrets: [OTHER_SECRET] }).verify(token)),
      rejection(hsVerifier({ audience: 'x' }).verify(token)),
      rejection(hsVerifier().verify(`${token}x`)),
      rejection(hsVerifier().verify(token, { sessionId: 'other' })),
    ]);
    for (const error of failures) {
      expect(error.message).not.toContain(token);
      expect(error.message).not.toContain(signature);
    }
  });
});

describe('configuration errors', () => {
  it('refuses an HS256 secret shorter than 32 bytes, naming the option', () => {
    const error = expectThrowsCode(
      () => createTokenIssuer({ algorithm: 'HS256', secret: 'short' }),
      ErrorCode.InvalidOptions,
    );
    expect(error.message).toContain('secret');
    expect(error.message).toContain('32 bytes');
    expectThrowsCode(
      () => createTokenIssuer({ algorithm: 'HS256', secret: 'x'.repeat(31) }),
      'invalid_options',
    );
    expectThrowsCode(
      () => createTokenIssuer({ algorithm: 'HS256', secret: undefined as unknown as string }),
      ErrorCode.InvalidOptions,
    );
  });

  it('refuses an unknown algorithm and unreadable or mismatched private keys', async () => {
    expectThrowsCode(
      () => createTokenIssuer({ algorithm: 'HS512', secret: SECRET } as unknown as IssuerConfig),
      ErrorCode.InvalidOptions,
    );
    const bad = expectThrowsCode(
      () => createTokenIssuer({ algorithm: 'RS256', privateKey: 'not a pem' }),
      ErrorCode.InvalidOptions,
    );
    expect(bad.message).toContain('privateKey');

    const ec = await pemKeyPair('ES256');
    const mismatch = expectThrowsCode(
      () => createTokenIssuer({ algorithm: 'RS256', privateKey: ec.privateKey }),
      ErrorCode.InvalidOptions,
    );
    expect(mismatch.message).not.toContain('BEGIN');
    expectThrowsCode(
      () => createTokenIssuer({ algorithm: 'EdDSA', privateKey: ec.publicKey }),
      'invalid_options',
    );

    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weakPem = weak.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expectThrowsCode(() => createTokenIssuer({ algorithm: 'RS256', privateKey: weakPem }), 'invalid_options');
  });

  it('refuses bad issue() options', async () => {
    const issuer = hsIssuer();
    for (const ttlSeconds of [0, -1, 1.5, 86_400 * 30 + 1, Number.NaN]) {
      await expectCode(issuer.issue({ sessionId: 's', ttlSeconds }), ErrorCode.InvalidOptions);
    }
    await expect(issuer.issue({ sessionId: 's', ttlSeconds: 86_400 * 30 })).resolves.toBeDefined();
    await expectCode(issuer.issue({ sessionId: 's', notBefore: new Date(Number.NaN) }), 'invalid_options');
    await expectCode(
      issuer.issue({ sessionId: 's', ttlSeconds: 60, notBefore: new Date(Date.now() + 120_000) }),
      ErrorCode.InvalidOptions,
    );
  });

  it('refuses verifier configs without keys or with bad keys', async () => {
    expectThrowsCode(() => createTokenVerifier({}), ErrorCode.InvalidOptions);
    expectThrowsCode(
      () => createTokenVerifier({ hs256Secrets: [], publicKeys: [] }),
      ErrorCode.InvalidOptions,
    );
    const short = expectThrowsCode(
      () => createTokenVerifier({ hs256Secrets: [SECRET, 'short'] }),
      'invalid_options',
    );
    expect(short.message).toContain('hs256Secrets[1]');

    const rsa = await pemKeyPair('RS256');
    const leaked = expectThrowsCode(
      () => createTokenVerifier({ publicKeys: [{ algorithm: 'RS256', publicKey: rsa.privateKey }] }),
      ErrorCode.InvalidOptions,
    );
    expect(leaked.message).toContain('publicKeys[0].publicKey');
    expectThrowsCode(
      () => createTokenVerifier({ publicKeys: [{ algorithm: 'ES256', publicKey: rsa.publicKey }] }),
      ErrorCode.InvalidOptions,
    );
    expectThrowsCode(
      () => createTokenVerifier({ publicKeys: [{ algorithm: 'HS256', publicKey: rsa.publicKey }] } as never),
      ErrorCode.InvalidOptions,
    );
    expectThrowsCode(() => hsVerifier({ clockToleranceSeconds: -1 }), ErrorCode.InvalidOptions);
    expectThrowsCode(() => hsVerifier({ audience: '' }), ErrorCode.InvalidOptions);
  });
});
