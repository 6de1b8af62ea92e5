/**
 * Whether one node's CLUSTER NODES text shows the whole cluster: `nodeCount` nodes, every one a
 * normal peer (no handshake, noaddr or fail/fail? flag), `replicaCount` of them replicas.
 *
 * `redis-cli --cluster create` returns once the masters agree on the slots; a node that has not
 * met a replica yet refuses that replica's failover vote, so a master killed then is never
 * replaced. Test clusters wait for this on every node (as deploy/redis-cluster-init.sh does)
 * before a test may kill anything: a CI run on a loaded host once found a replica unknown to the
 * reporting node, and its shard unserved for over 60 s after its master was killed.
 */
export function showsWholeCluster(clusterNodes: string, nodeCount: number, replicaCount: number): boolean {
  const flags = clusterNodes
    .trim()
    .split('\n')
    .map((line) => (line.split(' ')[2] ?? '').split(','));
  return (
    flags.length === nodeCount &&
    flags.every((f) => !f.some((flag) => ['fail', 'fail?', 'handshake', 'noaddr'].includes(flag))) &&
    flags.filter((f) => f.includes('slave')).length === replicaCount
  );
}
