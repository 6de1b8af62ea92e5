import { describe, expect, it } from 'vitest';
import { showsWholeCluster } from '@holdfast/testing';

const node = (id: string, port: number, flags: string, master = '-', slots = ''): string =>
  `${id} 127.0.0.1:${port}@${port + 1} ${flags} ${master} 0 1700000000000 1 connected ${slots}`.trim();

const whole = [
  node('a', 7001, 'myself,master', '-', '0-5460'),
  node('b', 7002, 'master', '-', '5461-10922'),
  node('c', 7003, 'master', '-', '10923-16383'),
  node('d', 7004, 'slave', 'a'),
  node('e', 7005, 'slave', 'b'),
  node('f', 7006, 'slave', 'c'),
];

describe('showsWholeCluster', () => {
  it('accepts a view of every node as a normal peer with the expected replicas', () => {
    expect(showsWholeCluster(whole.join('\n'), 6, 3)).toBe(true);
  });

  it('refuses a view missing a replica (the node has not met it yet)', () => {
    expect(showsWholeCluster(whole.slice(0, 5).join('\n'), 6, 3)).toBe(false);
  });

  it('refuses a view with a node still in handshake, without address, or failing', () => {
    for (const flags of ['handshake', 'noaddr,slave', 'slave,fail', 'slave,fail?']) {
      const view = [...whole.slice(0, 5), node('f', 7006, flags, 'c')].join('\n');
      expect(showsWholeCluster(view, 6, 3), flags).toBe(false);
    }
  });

  it('refuses a view where a replica is still an empty master', () => {
    const view = [...whole.slice(0, 5), node('f', 7006, 'master')].join('\n');
    expect(showsWholeCluster(view, 6, 3)).toBe(false);
  });
});
