import { describe, expect, it } from 'vitest';
import {
  CLIENT_EVENTS,
  ErrorCode,
  HoldfastError,
  validateAck,
  validateEventName,
  validateHandshakeAuth,
  validateSend,
  validateSendReply,
  validateTokenRefresh,
} from '@holdfast/protocol';

/** The code and message a validator throws for `input`. */
function refusal(validate: (input: unknown) => unknown, input: unknown): { code: string; message: string } {
  try {
    validate(input);
  } catch (error) {
    expect(error).toBeInstanceOf(HoldfastError);
    const { code, message } = error as HoldfastError;
    return { code, message };
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('validateHandshakeAuth', () => {
  const good = { v: 2, sessionId: 's-1', token: 'a.b.c' };

  it('accepts a handshake with and without a position', () => {
    expect(validateHandshakeAuth(good)).toEqual({
      sessionId: 's-1',
      token: 'a.b.c',
      version: 2,
      position: undefined,
    });
    expect(validateHandshakeAuth({ ...good, v: 1, position: { epoch: 'E', offset: 0 } })).toEqual({
      sessionId: 's-1',
      token: 'a.b.c',
      version: 1,
      position: { epoch: 'E', offset: 0 },
    });
    expect(validateHandshakeAuth({ ...good, position: null }).position).toBeUndefined();
  });

  it("accepts start: 'oldest' from protocol 3 on, and the old start mark as a position", () => {
    expect(validateHandshakeAuth({ ...good, v: 3, start: 'oldest' })).toEqual({
      sessionId: 's-1',
      token: 'a.b.c',
      version: 3,
      position: 'oldest',
    });
    // What SDKs of protocol 1 and 2 sent: an epoch no log has, answered with a reset.
    expect(validateHandshakeAuth({ ...good, position: { epoch: '~start', offset: 0 } }).position).toEqual({
      epoch: '~start',
      offset: 0,
    });
  });

  it('accepts instance and attempt together from protocol 4 on; without them the claim is unordered', () => {
    expect(validateHandshakeAuth({ ...good, v: 4, instance: 'c0ffee-1_A', attempt: 3 })).toEqual({
      sessionId: 's-1',
      token: 'a.b.c',
      version: 4,
      position: undefined,
      attempt: { instance: 'c0ffee-1_A', attempt: 3 },
    });
    expect(validateHandshakeAuth({ ...good, v: 4 }).attempt).toBeUndefined();
    expect(validateHandshakeAuth({ ...good, v: 4, instance: null, attempt: null }).attempt).toBeUndefined();
    expect(validateHandshakeAuth(good).attempt).toBeUndefined();
  });

  it.each([
    [null, ErrorCode.InvalidHandshake, 'handshake auth must be an object { v, sessionId, token, position? }'],
    [
      [good],
      ErrorCode.InvalidHandshake,
      'handshake auth must be an object { v, sessionId, token, position? }',
    ],
    [
      { ...good, v: 5 },
      ErrorCode.UnsupportedProtocol,
      'protocol version 5 is not supported; this edge speaks 1, 2, 3, 4',
    ],
    [
      { ...good, v: undefined },
      ErrorCode.UnsupportedProtocol,
      'protocol version undefined is not supported; this edge speaks 1, 2, 3, 4',
    ],
    [
      { ...good, v: 3, instance: 'i-1', attempt: 1 },
      ErrorCode.InvalidHandshake,
      'instance and attempt need protocol version 4; this handshake says 3',
    ],
    [
      { ...good, v: 4, instance: 'i-1' },
      ErrorCode.InvalidHandshake,
      'attempt must be a positive safe integer, higher for each new connection attempt, got undefined',
    ],
    [
      { ...good, v: 4, attempt: 1 },
      ErrorCode.InvalidHandshake,
      'instance must be 1-64 characters of A-Z a-z 0-9 _ - (a random id per client instance), got undefined',
    ],
    [
      { ...good, v: 4, instance: 'a b', attempt: 1 },
      ErrorCode.InvalidHandshake,
      'instance must be 1-64 characters of A-Z a-z 0-9 _ -',
    ],
    [{ ...good, v: 4, instance: 'x'.repeat(65), attempt: 1 }, ErrorCode.InvalidHandshake, 'instance must be'],
    [{ ...good, v: 4, instance: 'i-1', attempt: 0 }, ErrorCode.InvalidHandshake, 'attempt must be'],
    [{ ...good, v: 4, instance: 'i-1', attempt: 1.5 }, ErrorCode.InvalidHandshake, 'attempt must be'],
    [{ ...good, v: 4, instance: 'i-1', attempt: '2' }, ErrorCode.InvalidHandshake, 'attempt must be'],
    [
      { ...good, v: 4, instance: 'i-1', attempt: Number.MAX_SAFE_INTEGER + 1 },
      ErrorCode.InvalidHandshake,
      'attempt must be',
    ],
    [
      { ...good, start: 'oldest' },
      ErrorCode.InvalidHandshake,
      'start needs protocol version 3; this handshake says 2',
    ],
    [{ ...good, v: 3, start: 'newest' }, ErrorCode.InvalidHandshake, `start must be 'oldest', got "newest"`],
    [
      { ...good, v: 3, start: 'oldest', position: { epoch: 'E', offset: 1 } },
      ErrorCode.InvalidHandshake,
      'handshake auth has both start and position; send one of them',
    ],
    [{ ...good, sessionId: 'a:b' }, ErrorCode.InvalidSessionId, 'session id must be'],
    [{ ...good, token: '' }, ErrorCode.TokenMissing, 'handshake auth has no token'],
    [{ ...good, token: 42 }, ErrorCode.TokenInvalid, 'token must be a string'],
    [{ ...good, position: 5 }, ErrorCode.InvalidOffset, 'position must be an object { epoch, offset }'],
    [
      { ...good, position: { epoch: '', offset: 1 } },
      ErrorCode.InvalidOffset,
      'position.epoch must be the epoch string from a previous hello, batch or reset',
    ],
    [
      { ...good, position: { epoch: 'E', offset: -1 } },
      ErrorCode.InvalidOffset,
      'position.offset must be a non-negative safe integer, got -1',
    ],
  ] as Array<[unknown, string, string]>)('refuses %j with %s', (auth, code, message) => {
    const refused = refusal(validateHandshakeAuth, auth);
    expect(refused.code).toBe(code);
    expect(refused.message.startsWith(message)).toBe(true);
  });
});

describe('validateEventName', () => {
  it('accepts the client events and nothing else', () => {
    for (const event of CLIENT_EVENTS) expect(() => validateEventName(event)).not.toThrow();
    expect(refusal(validateEventName, 'hello')).toEqual({
      code: ErrorCode.UnknownEvent,
      message: 'unknown event "hello"',
    });
    expect(refusal(validateEventName, 'x'.repeat(100)).message).toBe(`unknown event "${'x'.repeat(64)}"`);
  });
});

describe('validateAck', () => {
  it('accepts { epoch, offset } and returns just those', () => {
    expect(validateAck({ epoch: 'E', offset: 0, extra: 1 })).toEqual({ epoch: 'E', offset: 0 });
  });

  it.each([
    [null],
    [7],
    [{ epoch: 'E' }],
    [{ epoch: 1, offset: 1 }],
    [{ epoch: 'E', offset: 1.5 }],
    [{ epoch: 'E', offset: -1 }],
  ])('refuses %j with invalid_ack', (payload) => {
    expect(refusal(validateAck, payload)).toEqual({
      code: ErrorCode.InvalidAck,
      message: 'ack must be { epoch: string, offset: non-negative integer }',
    });
  });
});

describe('validateSend', () => {
  it('accepts { id, data } with JSON data', () => {
    expect(validateSend({ id: 'm-1.a', data: { text: 'hi' } })).toEqual({
      id: 'm-1.a',
      data: { text: 'hi' },
    });
  });

  it('refuses what is not { id, data }, a bad id and unsafe data', () => {
    for (const payload of [null, 'text', [1]]) {
      expect(refusal(validateSend, payload)).toEqual({
        code: ErrorCode.InvalidPayload,
        message: 'send takes { id, data }',
      });
    }
    expect(refusal(validateSend, { id: 'a b', data: 1 }).code).toBe(ErrorCode.InvalidMessageId);
    expect(refusal(validateSend, { id: 'm', data: JSON.parse('{"__proto__":{}}') })).toEqual({
      code: ErrorCode.InvalidPayload,
      message: 'data has a "__proto__" key',
    });
    expect(refusal(validateSend, { id: 'm', data: new Uint8Array(2) })).toEqual({
      code: ErrorCode.InvalidPayload,
      message: 'data must be JSON: binary attachments are not accepted',
    });
  });

  it('needs a reply callback', () => {
    expect(() => validateSendReply(() => undefined)).not.toThrow();
    expect(refusal(validateSendReply, undefined)).toEqual({
      code: ErrorCode.InvalidPayload,
      message: 'send needs an acknowledgement callback',
    });
  });
});

describe('validateTokenRefresh', () => {
  it('hands the token on unchecked, for the verifier to judge', () => {
    expect(validateTokenRefresh({ token: 'a.b.c' })).toEqual({ token: 'a.b.c' });
    expect(validateTokenRefresh({ token: 5 })).toEqual({ token: 5 });
    expect(validateTokenRefresh({})).toEqual({ token: undefined });
    expect(validateTokenRefresh(null)).toEqual({ token: undefined });
  });
});
