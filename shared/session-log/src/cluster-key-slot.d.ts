// cluster-key-slot (an ioredis dependency) ships no types: the one function used here.
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot of a key (hash tags included), as CLUSTER KEYSLOT computes it. */
  export default function calculateSlot(key: string): number;
}
