import { describe, expect, it } from 'vitest';
import {
  ApiErrorCode,
  ApiKeys,
  consumerIdSchema,
  messageIdSchema,
  sessionIdSchema,
  statusOf,
} from '@holdfast/api';
import {
  CONSUMER_ID_MAX_LENGTH,
  ErrorCode,
  MESSAGE_ID_MAX_LENGTH,
  SESSION_ID_MAX_LENGTH,
  assertConsumerId,
  assertMessageId,
  assertSessionId,
} from '@holdfast/protocol';

describe('HTTP status of each code', () => {
  it.each([
    ['invalid_session_id', 400],
    ['invalid_payload', 400],
    ['invalid_options', 400],
    ['payload_too_large', 413],
    ['batch_too_large', 413],
    ['session_not_found', 404],
    ['session_ended', 410],
    ['session_exists', 409],
    ['redis_unavailable', 503],
    ['timeout', 503],
    ['replication_timeout', 503],
    ['server_draining', 503],
    ['unauthorized', 401],
    ['invalid_json', 400],
    ['body_too_large', 413],
    ['unsupported_media_type', 415],
    ['not_found', 404],
    ['invalid_request', 400],
    ['not_ready', 503],
    ['internal_error', 500],
  ] as const)('%s → %i', (code, status) => {
    expect(statusOf(code)).toBe(status);
  });

  it('maps every code, and API codes never collide with shared ones', () => {
    const shared = Object.values(ErrorCode) as string[];
    for (const code of [...Object.values(ErrorCode), ...Object.values(ApiErrorCode)]) {
      expect(statusOf(code), code).toBeGreaterThanOrEqual(400);
    }
    for (const code of Object.values(ApiErrorCode)) expect(shared, code).not.toContain(code);
  });
});

describe('identifier schemas of the API agree with the protocol', () => {
  const samples = ['a', 'chat-42', 'A_b-9', 'a.b', 'x y', 'a:b', '{a}', 'ü', '*', 'a\n', '-', '.', '_', '..'];
  const cases = [
    ['session', sessionIdSchema, SESSION_ID_MAX_LENGTH, assertSessionId],
    ['consumer', consumerIdSchema, CONSUMER_ID_MAX_LENGTH, assertConsumerId],
    ['message', messageIdSchema, MESSAGE_ID_MAX_LENGTH, assertMessageId],
  ] as const;
  it.each(cases)('%s ids', (_kind, schema, maxLength, assert) => {
    const all = [...samples, 'a'.repeat(maxLength), 'a'.repeat(maxLength + 1), ''];
    for (const value of all) {
      const bySchema = schema.safeParse(value).success;
      let byProtocol = true;
      try {
        assert(value);
      } catch {
        byProtocol = false;
      }
      expect(bySchema, JSON.stringify(value)).toBe(byProtocol);
    }
  });
});

describe('ApiKeys', () => {
  const keys = new ApiKeys(['first-key-0123456789', 'second-key-0123456789']);

  it('accepts every configured key as a Bearer token', () => {
    expect(keys.authorize('Bearer first-key-0123456789')).toBe(true);
    expect(keys.authorize('Bearer second-key-0123456789')).toBe(true);
    expect(keys.authorize('bearer second-key-0123456789')).toBe(true);
  });

  it('refuses anything else', () => {
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'first-key-0123456789',
      'Basic first-key-0123456789',
      'Bearer first-key-012345678',
      'Bearer first-key-01234567890',
      'Bearer first-key-0123456789 second-key-0123456789',
    ]) {
      expect(keys.authorize(header), String(header)).toBe(false);
    }
  });

  it('needs at least one key', () => {
    expect(() => new ApiKeys([])).toThrow(/at least one/);
  });
});
