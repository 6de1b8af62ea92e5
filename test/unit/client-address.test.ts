import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, parseTrustedProxies } from '../../services/edge/src/client-address.js';

/** The parts of a request clientAddress reads. */
function request(remoteAddress: string | undefined, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  const trusted = parseTrustedProxies(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);

  it('is the TCP peer when the peer is not a trusted proxy, whatever it forwards', () => {
    expect(clientAddress(request('198.51.100.7', '1.2.3.4'), trusted)).toBe('198.51.100.7');
    expect(clientAddress(request('::ffff:198.51.100.7', '1.2.3.4'), trusted)).toBe('198.51.100.7');
  });

  it('is the rightmost untrusted hop behind trusted proxies', () => {
    expect(clientAddress(request('127.0.0.1', '203.0.113.9'), trusted)).toBe('203.0.113.9');
    expect(clientAddress(request('10.1.2.3', 'spoofed, 203.0.113.9, 10.9.9.9'), trusted)).toBe('203.0.113.9');
    expect(clientAddress(request('::ffff:127.0.0.1', '1.1.1.1, 203.0.113.9'), trusted)).toBe('203.0.113.9');
    expect(clientAddress(request('fd00::1', '2001:db8::5'), trusted)).toBe('2001:db8::5');
  });

  it('is empty, without throwing, once the socket is gone (a client reset during its upgrade)', () => {
    expect(clientAddress(request(undefined), trusted)).toBe('');
    expect(clientAddress(request(undefined, '203.0.113.9'), parseTrustedProxies([]))).toBe('');
  });

  it('stops at a malformed hop and keeps the last address it could believe', () => {
    expect(clientAddress(request('127.0.0.1', '203.0.113.9, not-an-ip'), trusted)).toBe('127.0.0.1');
    expect(clientAddress(request('127.0.0.1'), trusted)).toBe('127.0.0.1');
    expect(clientAddress(request('127.0.0.1', '10.0.0.5'), trusted)).toBe('10.0.0.5');
  });
});

describe('parseTrustedProxies', () => {
  it.each(['not-an-ip', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/8/1', 'fd00::/129', '10.0.0.0/x'])(
    'refuses %j',
    (entry) => {
      expect(() => parseTrustedProxies([entry])).toThrow(JSON.stringify(entry));
    },
  );
});
