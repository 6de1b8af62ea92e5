import { describe, expect, it } from 'vitest';
import { parseOptions } from '../chaos/options.js';
import { replayCommand } from '../chaos/report.js';
import { CLUSTER_FAULT_KINDS, FAULT_KINDS } from '../chaos/schedule.js';

describe('chaos options: --topology', () => {
  it('keeps the standalone topology, its faults and loss phases the default', () => {
    const options = parseOptions(['--seed', '7']);
    expect(options.topology).toBe('standalone');
    expect(options.faultKinds).toEqual(FAULT_KINDS);
    expect(options.lossPhases).toBe(true);
    expect(replayCommand(options)).toBe('npm run chaos -- --profile short --seed 7');
  });

  it('runs the cluster faults and no single-server loss phases on a Redis Cluster', () => {
    const options = parseOptions(['--topology', 'redis-cluster', '--seed', '7']);
    expect(options.faultKinds).toEqual(CLUSTER_FAULT_KINDS);
    expect(options.lossPhases).toBe(false);
    expect(replayCommand(options)).toBe('npm run chaos -- --profile short --seed 7 --topology redis-cluster');
  });

  it('refuses faults the topology cannot inject, naming the ones it can', () => {
    expect(() => parseOptions(['--topology', 'redis-cluster', '--faults', 'redis_kill'])).toThrow(
      /'redis_kill' is not a fault of this topology; kinds: edge_kill/,
    );
    expect(() => parseOptions(['--faults', 'master_kill'])).toThrow(/'master_kill' is not a fault/);
    expect(() => parseOptions(['--topology', 'sentinel'])).toThrow(/--topology must be one of/);
  });
});
