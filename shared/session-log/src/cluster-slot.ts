import calculateSlot from 'cluster-key-slot';

/**
 * The Redis Cluster slot of a key, computed locally as the cluster does (CRC16 of the hash
 * tag). Callers group multi-session script calls by it: on a cluster one call's keys must
 * share a slot.
 */
export function clusterSlotOf(key: string): number {
  return calculateSlot(key);
}
