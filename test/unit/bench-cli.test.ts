import { describe, expect, it } from 'vitest';
import { parseCli } from '../../bench/cli.js';
import { PROFILES } from '../../bench/profiles.js';

describe('bench command line: --load-client', () => {
  it('defaults to the raw client, the lighter one', () => {
    expect(parseCli([]).loadClient).toBe('raw');
  });

  it('takes either kind', () => {
    expect(parseCli(['--load-client', 'socket.io-client']).loadClient).toBe('socket.io-client');
    expect(parseCli(['--load-client', 'raw', '--only', 'unicast-latency']).loadClient).toBe('raw');
  });

  it('refuses an unknown kind or a missing value, naming the argument', () => {
    expect(() => parseCli(['--load-client', 'engine.io'])).toThrow(/unknown load client "engine.io"/);
    expect(() => parseCli(['--load-client'])).toThrow(/--load-client needs a value/);
  });
});

describe('bench command line: --sessions', () => {
  it("replaces the profile's unicast sizes, whichever comes first", () => {
    expect(parseCli(['--sessions', '100,1000']).profile.unicastSessions).toEqual([100, 1000]);
    const full = parseCli(['--sessions', '1000', '--profile', 'full']).profile;
    expect(full.unicastSessions).toEqual([1000]);
    expect(full.repeats).toBe(3);
  });

  it('refuses anything but positive integers', () => {
    expect(() => parseCli(['--sessions', '0'])).toThrow(/--sessions/);
    expect(() => parseCli(['--sessions', 'x'])).toThrow(/--sessions/);
  });
});

describe('bench command line: --resume-sessions', () => {
  it('sets the resume storm size and nothing else', () => {
    const profile = parseCli(['--resume-sessions', '1000']).profile;
    expect(profile.resumeSessions).toBe(1000);
    expect(profile.resumeMissed).toEqual(PROFILES.quick.resumeMissed);
    expect(() => parseCli(['--resume-sessions', '0'])).toThrow(/--resume-sessions/);
  });
});
