import { describe, expect, it } from 'vitest';
import { planLeaseBatches } from '../../shared/session-log/src/lease-batches.js';

describe('cutting a lease renewal round into script calls', () => {
  const partitions = [3, 1, 3, 2, 1, 3, 0];

  it('packs any partitions together up to the per-call limit where slots do not matter', () => {
    expect(planLeaseBatches(partitions, 3, false)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('never mixes partitions where a call must be one slot, keeping input order within one', () => {
    const batches = planLeaseBatches(partitions, 2, true);
    expect(batches).toEqual([[6], [1, 4], [3], [0, 2], [5]]);
    for (const batch of batches) expect(new Set(batch.map((i) => partitions[i])).size).toBe(1);
    expect(batches.flat().sort()).toEqual(partitions.map((_, i) => i));
  });

  it('makes no call for no leases', () => {
    expect(planLeaseBatches([], 256, true)).toEqual([]);
  });
});
