/**
 * How an edge's periodic lease renewal is cut into script calls (lease-renew-n.lua): at most
 * `maxPerCall` leases each, and, where a call's keys must share a slot (Redis Cluster), only
 * leases of one partition (keys.ts: one partition is one slot). On a standalone Redis any
 * sessions may share a call, so partitions are packed together: 10,000 idle connections are 40
 * calls per round there, and on a cluster at most one call per partition that has leases.
 *
 * Returns, per call, the indexes of its leases in the input (so answers can go back in order).
 */
export function planLeaseBatches(
  partitions: readonly number[],
  maxPerCall: number,
  onePartitionPerCall: boolean,
): number[][] {
  const order = partitions.map((_, i) => i);
  // Sorting only matters when partitions must not mix; stable, so a partition keeps input order.
  if (onePartitionPerCall) order.sort((a, b) => (partitions[a] as number) - (partitions[b] as number));
  const batches: number[][] = [];
  let current: number[] = [];
  let partition: number | undefined;
  for (const index of order) {
    const p = partitions[index] as number;
    const full = current.length >= maxPerCall;
    const otherPartition = onePartitionPerCall && current.length > 0 && p !== partition;
    if (full || otherPartition) {
      batches.push(current);
      current = [];
    }
    current.push(index);
    partition = p;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
