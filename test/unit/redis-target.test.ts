import { describe, expect, it } from 'vitest';
import { loadEdgeConfig } from '@holdfast/edge';
import { parseRedisTarget, redactRedisUrl } from '@holdfast/protocol';
import { loadWorkerConfig } from '@holdfast/worker';

describe('where Redis is (REDIS_URL)', () => {
  it('passes a server URL through unchanged', () => {
    expect(parseRedisTarget('redis://:secret@10.0.0.1:6380/2')).toEqual({
      kind: 'standalone',
      url: 'redis://:secret@10.0.0.1:6380/2',
    });
  });

  it('reads a cluster URL: nodes, credentials, TLS', () => {
    expect(parseRedisTarget('redis+cluster://10.0.0.1:7000,10.0.0.2:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(parseRedisTarget('rediss+cluster://app:p%40ss@[::1]:7000/')).toEqual({
      kind: 'cluster',
      nodes: [{ host: '::1', port: 7000 }],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(parseRedisTarget('redis+cluster://:only-password@h:7000')).toMatchObject({
      username: undefined,
      password: 'only-password',
    });
  });

  it('refuses a bad cluster URL with a sentence saying what is wrong', () => {
    expect(() => parseRedisTarget('redis+cluster://')).toThrow(/at least one host:port/);
    expect(() => parseRedisTarget('redis+cluster://h:7000,h2')).toThrow(/"h2" is not host:port/);
    expect(() => parseRedisTarget('redis+cluster://h:70000')).toThrow(/port 1-65535/);
    expect(() => parseRedisTarget('redis+cluster://h:7000/1')).toThrow(/no path, database or query/);
    expect(() => parseRedisTarget('not a url')).toThrow(/not a URL/);
  });

  it('hides the password of a cluster URL', () => {
    expect(redactRedisUrl('redis+cluster://app:secret@h:7000,h:7001')).toBe(
      'redis+cluster://app:***@h:7000,h:7001',
    );
  });

  it('is accepted by the services, and a bad one stops them at start naming REDIS_URL', () => {
    const url = 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001';
    expect(loadWorkerConfig({ REDIS_URL: url }).redisUrl).toBe(url);
    expect(loadEdgeConfig({ REDIS_URL: url, TOKEN_HS256_SECRETS: 'x'.repeat(32) }).redisUrl).toBe(url);
    expect(() => loadWorkerConfig({ REDIS_URL: 'redis+cluster://h' })).toThrow(
      /REDIS_URL: cluster node "h" is not host:port/,
    );
  });
});
