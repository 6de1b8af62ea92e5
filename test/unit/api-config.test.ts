import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '@holdfast/api';

const SECRET = 'a-token-secret-of-at-least-32-bytes!!';
const KEY = 'an-api-key-0123456789';
const base = { API_KEYS: KEY, TOKEN_HS256_SECRETS: SECRET };

function problem(env: Record<string, string | undefined>): string {
  try {
    loadApiConfig(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadApiConfig', () => {
  it('applies the defaults', () => {
    const config = loadApiConfig(base);
    expect(config).toMatchObject({
      port: 8081,
      host: '0.0.0.0',
      redisUrl: 'redis://127.0.0.1:6379',
      keyPrefix: 'hf',
      redisCommandTimeoutMs: 5000,
      apiKeys: [KEY],
      maxBodyBytes: 1024 * 1024,
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      token: { algorithm: 'HS256', secret: SECRET, audience: 'holdfast' },
    });
    expect(config.token).not.toHaveProperty('issuer');
  });

  it('reads HOLDFAST_REPLICATION_WAIT into the key layout the session log is given (off by default)', () => {
    expect(loadApiConfig(base).sharedLog).not.toHaveProperty('replicationWait');
    expect(loadApiConfig({ ...base, HOLDFAST_REPLICATION_WAIT: '1:500' }).sharedLog).toMatchObject({
      replicationWait: { replicas: 1, timeoutMs: 500 },
    });
    expect(problem({ ...base, HOLDFAST_REPLICATION_WAIT: '1' })).toMatch(
      /HOLDFAST_REPLICATION_WAIT: must be "off" or "<replicas>:<timeoutMs>"/,
    );
  });

  it('reads several API keys and HS256 secrets; the first secret signs', () => {
    const other = 'another-token-secret-of-32-bytes-or-more';
    const config = loadApiConfig({
      API_KEYS: ` ${KEY} , second-key-abcdefghijk,`,
      TOKEN_HS256_SECRETS: `${other},${SECRET}`,
      TOKEN_AUDIENCE: 'app',
      TOKEN_ISSUER: 'https://app.example',
      PORT: '0',
      API_MAX_BODY_BYTES: '4096',
    });
    expect(config.apiKeys).toEqual([KEY, 'second-key-abcdefghijk']);
    expect(config.token).toEqual({
      algorithm: 'HS256',
      secret: other,
      audience: 'app',
      issuer: 'https://app.example',
    });
    expect(config.port).toBe(0);
    expect(config.maxBodyBytes).toBe(4096);
  });

  it('takes a private key instead, with escaped newlines as one-line env values have them', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const config = loadApiConfig({
      API_KEYS: KEY,
      TOKEN_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
      TOKEN_PRIVATE_KEY_ALG: 'EdDSA',
    });
    expect(config.token).toMatchObject({ algorithm: 'EdDSA', privateKey: pem });
  });

  it.each([
    ['API_KEYS', { API_KEYS: undefined }],
    ['API_KEYS', { API_KEYS: ' , ' }],
    ['API_KEYS', { API_KEYS: `${KEY},short` }],
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['REDIS_URL', { REDIS_URL: 'not a url' }],
    ['HOLDFAST_KEY_PREFIX', { HOLDFAST_KEY_PREFIX: 'a:b' }],
    ['REDIS_COMMAND_TIMEOUT_MS', { REDIS_COMMAND_TIMEOUT_MS: '0' }],
    ['API_MAX_BODY_BYTES', { API_MAX_BODY_BYTES: '-1' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['SHUTDOWN_TIMEOUT_MS', { SHUTDOWN_TIMEOUT_MS: '1.5' }],
    ['TOKEN_HS256_SECRETS', { TOKEN_HS256_SECRETS: undefined }],
    ['TOKEN_HS256_SECRETS', { TOKEN_HS256_SECRETS: 'too-short' }],
    ['TOKEN_HS256_SECRETS', { TOKEN_PRIVATE_KEY: 'pem', TOKEN_PRIVATE_KEY_ALG: 'ES256' }],
    ['TOKEN_PRIVATE_KEY_ALG', { TOKEN_HS256_SECRETS: undefined, TOKEN_PRIVATE_KEY: 'pem' }],
    [
      'TOKEN_PRIVATE_KEY_ALG',
      { TOKEN_HS256_SECRETS: undefined, TOKEN_PRIVATE_KEY: 'pem', TOKEN_PRIVATE_KEY_ALG: 'HS256' },
    ],
    [
      'TOKEN_PRIVATE_KEY',
      { TOKEN_HS256_SECRETS: undefined, TOKEN_PRIVATE_KEY: 'pem', TOKEN_PRIVATE_KEY_ALG: 'ES256' },
    ],
  ])('refuses a bad %s (%j), naming it', (variable, change: Record<string, string | undefined>) => {
    const message = problem({ ...base, ...change });
    expect(message).toContain('invalid api configuration');
    expect(message).toMatch(new RegExp(`^  ${variable}: `, 'm'));
  });

  it('names a private key that does not fit its algorithm', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const message = problem({ API_KEYS: KEY, TOKEN_PRIVATE_KEY: pem, TOKEN_PRIVATE_KEY_ALG: 'ES256' });
    expect(message).toMatch(/TOKEN_PRIVATE_KEY: privateKey must be an EC P-256 key/);
  });
});
