import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { answerDrainRequest } from '../../services/edge/src/admin-drain.js';

const TOKEN = 'an-admin-token-of-enough-length';
const request = (method: string, authorization?: string): IncomingMessage =>
  ({ method, headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

describe('answerDrainRequest', () => {
  it('is off without a configured token, whatever is presented', () => {
    expect(answerDrainRequest(request('POST', `Bearer ${TOKEN}`), undefined, false)).toMatchObject({
      status: 404,
      drain: false,
      body: { code: 'not_found' },
    });
  });

  it('takes POST only, and only with the exact token', () => {
    expect(answerDrainRequest(request('GET', `Bearer ${TOKEN}`), TOKEN, false)).toMatchObject({
      status: 405,
      drain: false,
    });
    for (const authorization of [
      undefined,
      TOKEN,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      'Basic abc',
    ]) {
      expect(answerDrainRequest(request('POST', authorization), TOKEN, false)).toMatchObject({
        status: 401,
        drain: false,
        body: { code: 'unauthorized' },
      });
    }
  });

  it('starts a drain once: a second request finds it draining already', () => {
    expect(answerDrainRequest(request('POST', `Bearer ${TOKEN}`), TOKEN, false)).toEqual({
      status: 202,
      body: { status: 'draining' },
      drain: true,
    });
    expect(answerDrainRequest(request('POST', `Bearer ${TOKEN}`), TOKEN, true)).toMatchObject({
      status: 202,
      drain: false,
    });
  });
});
