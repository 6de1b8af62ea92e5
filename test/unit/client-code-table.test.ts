import { describe, expect, it } from 'vitest';
import { ErrorCode, errorActions } from '@holdfast/protocol';
import { ClientErrorCode, HoldfastClientError, actionFor } from '@holdfast/client';
import { faultKeepsConnection } from '../../shared/client/src/code-table.js';

describe('the client code table', () => {
  it('follows docs/protocol.md for every code: fix_request stops at the handshake', () => {
    for (const code of Object.values(ErrorCode)) {
      const expected = errorActions[code] === 'fix_request' ? 'stop' : errorActions[code];
      expect(actionFor(code), code).toBe(expected);
    }
  });

  it.each([
    ['replaced', 'stop'],
    ['session_ended', 'stop'],
    ['session_not_found', 'stop'],
    ['token_missing', 'stop'],
    ['token_invalid', 'stop'],
    ['token_wrong_session', 'stop'],
    ['unsupported_protocol', 'stop'],
    ['origin_not_allowed', 'stop'],
    ['invalid_handshake', 'stop'],
    ['invalid_session_id', 'stop'],
    ['invalid_offset', 'stop'],
    ['token_expired', 'refresh_token'],
    ['token_not_yet_valid', 'refresh_token'],
    ['server_draining', 'retry'],
    ['redis_unavailable', 'retry'],
    ['timeout', 'retry'],
    ['rate_limited', 'retry'],
  ])('%s → %s', (code, action) => {
    expect(actionFor(code)).toBe(action);
  });

  it("retries the client's own codes and codes a newer edge may send", () => {
    for (const code of Object.values(ClientErrorCode)) expect(actionFor(code), code).toBe('retry');
    expect(actionFor('some_future_code')).toBe('retry');
  });

  it('a fault keeps the connection for fix_request codes and rate_limited; others announce a close', () => {
    expect(faultKeepsConnection('invalid_ack')).toBe(true);
    expect(faultKeepsConnection('unknown_event')).toBe(true);
    expect(faultKeepsConnection('rate_limited')).toBe(true);
    expect(faultKeepsConnection('token_expired')).toBe(false);
    expect(faultKeepsConnection('redis_unavailable')).toBe(false);
    expect(faultKeepsConnection('some_future_code')).toBe(false);
  });

  it('HoldfastClientError carries the action from the table unless one is given', () => {
    const drained = new HoldfastClientError('server_draining', 'moving', { retryAfterMs: 100 });
    expect(drained).toMatchObject({ name: 'HoldfastClientError', action: 'retry', retryAfterMs: 100 });
    expect(new HoldfastClientError('replaced', 'gone').action).toBe('stop');
    const cause = new Error('boom');
    const failed = new HoldfastClientError('listener_failed', 'x', { cause, action: 'retry' });
    expect(failed.cause).toBe(cause);
    expect(failed).toBeInstanceOf(Error);
  });
});
