import { describe, expect, it } from 'vitest';
import { loadEdgeConfig } from '@holdfast/edge';

const base = { TOKEN_HS256_SECRETS: 'a-token-secret-of-at-least-32-bytes!!' };

function problem(env: Record<string, string | undefined>): string {
  try {
    loadEdgeConfig(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadEdgeConfig: the listen backlog', () => {
  it('defaults to 4096, above Node’s 511 that a 1,000-client reconnect storm overflows', () => {
    expect(loadEdgeConfig(base).listenBacklog).toBe(4096);
  });

  it('takes LISTEN_BACKLOG', () => {
    expect(loadEdgeConfig({ ...base, LISTEN_BACKLOG: '16384' }).listenBacklog).toBe(16_384);
  });

  it.each(['0', '-1', 'lots', '1.5'])('refuses LISTEN_BACKLOG=%s, naming the variable', (value) => {
    expect(problem({ ...base, LISTEN_BACKLOG: value })).toContain('LISTEN_BACKLOG');
  });
});
