import { describe, expect, it } from 'vitest';
import { connect, type ConnectOptions } from '@holdfast/client';

const valid: ConnectOptions = { sessionId: 's1', token: 't' };

describe('connect() options', () => {
  it.each([
    ['no URL', [], valid, /at least one edge URL/],
    ['an empty URL', [''], valid, /at least one edge URL/],
    ['no sessionId', 'http://x', { token: 't' }, /sessionId must be 1-64 characters/],
    ['a bad sessionId', 'http://x', { ...valid, sessionId: 'a:b' }, /sessionId must be/],
    ['no token', 'http://x', { sessionId: 's1' }, /give token or getToken/],
    [
      'a getToken that is not a function',
      'http://x',
      { sessionId: 's1', getToken: 'x' },
      /getToken must be a function/,
    ],
    ['from -1', 'http://x', { ...valid, from: -1 }, /from must be 'start' or an offset/],
    ['from "end"', 'http://x', { ...valid, from: 'end' }, /from must be 'start' or an offset/],
    [
      'ackEveryMessages 0',
      'http://x',
      { ...valid, ackEveryMessages: 0 },
      /ackEveryMessages must be an integer >= 1/,
    ],
    ['ackEveryMs -5', 'http://x', { ...valid, ackEveryMs: -5 }, /ackEveryMs must be an integer >= 0/],
    ['tokenRefreshMarginMs NaN', 'http://x', { ...valid, tokenRefreshMarginMs: NaN }, /tokenRefreshMarginMs/],
  ])('refuses %s, naming the option', (_what, urls, options, message) => {
    let thrown: unknown;
    try {
      connect(urls as string[], options as ConnectOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'HoldfastClientError', code: 'invalid_options', action: 'stop' });
    expect((thrown as Error).message).toMatch(message);
  });
});
