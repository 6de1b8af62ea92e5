#!/bin/sh
# Forms the Redis Cluster of docker-compose.redis-cluster.yml, once, then exits 0 when every node
# serves (cluster_state:ok) and every replica has finished its first sync: the Holdfast services
# start only after that (depends_on: service_completed_successfully).
#
#   CLUSTER_NODES     the nodes, host:port, separated by spaces or commas; IP addresses, because
#                     CLUSTER MEET takes no hostnames
#   CLUSTER_REPLICAS  replicas per master (default 1: 6 nodes = 3 masters + 3 replicas)
#   CLUSTER_INIT_TIMEOUT  seconds to wait for the nodes and for the cluster (default 120)
#   REDISCLI_AUTH     the nodes' password (redis-cli reads it from here)
#
# Ready means: every slot served, every replica in sync, and every node knowing every other.
#
# Compose runs this job on every `up`, and `npm run cluster -- --redis-cluster` on every start:
# on a cluster that already exists (nodes.conf in the volumes) it creates nothing, it only waits.
set -eu

nodes=$(echo "${CLUSTER_NODES:?set CLUSTER_NODES to the nodes host:port}" | tr ',' ' ')
replicas="${CLUSTER_REPLICAS:-1}"
node_count=$(echo "$nodes" | wc -w)
replica_count=$((node_count - node_count / (replicas + 1)))
deadline=$(($(date +%s) + ${CLUSTER_INIT_TIMEOUT:-120}))

say() { echo "redis-cluster-init: $*"; }
ask() {
  target=$1
  shift
  redis-cli -h "${target%:*}" -p "${target##*:}" "$@" 2>/dev/null | tr -d '\r'
}
nap() { sleep 0.2 2>/dev/null || sleep 1; }
wait_until() {
  while ! "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "gave up waiting: $*"
      exit 1
    fi
    nap
  done
}

node_answers() { ask "$1" ping | grep -q PONG; }
# More than one known node: this node already belongs to a cluster (formed by an earlier run).
node_joined() { ask "$1" cluster info | grep -q '^cluster_known_nodes:[2-9]'; }
# Every slot served: with cluster-require-full-coverage no, cluster_state:ok alone does not say so.
node_serves() {
  info=$(ask "$1" cluster info)
  echo "$info" | grep -q '^cluster_state:ok' && echo "$info" | grep -q '^cluster_slots_ok:16384'
}
# This node knows every node as a normal peer (no handshake, noaddr or fail flag) and counts the
# expected replicas. redis-cli --cluster create returns once the masters agree on the slots, but a
# node that has not yet met a replica would refuse that replica's failover vote, leaving its shard
# unserved when the master dies (seen on a loaded host: a replica unknown to a master for > 60 s).
node_sees_all() {
  view=$(ask "$1" cluster nodes)
  [ "$(echo "$view" | grep -c .)" -eq "$node_count" ] || return 1
  echo "$view" | awk '{ print $3 }' | grep -qE 'fail|handshake|noaddr' && return 1
  [ "$(echo "$view" | awk '$3 ~ /slave/' | grep -c .)" -eq "$replica_count" ]
}
# A replica serves nothing until its first sync ends; failing over to it then would lose the shard.
node_synced() {
  info=$(ask "$1" info replication)
  echo "$info" | grep -q '^role:slave' || return 0
  echo "$info" | grep -q '^master_link_status:up'
}
every_node() {
  for node in $nodes; do "$1" "$node" || return 1; done
}
any_node() {
  for node in $nodes; do "$1" "$node" && return 0; done
  return 1
}

say "waiting for $nodes"
wait_until every_node node_answers
if any_node node_joined; then
  say "the cluster exists already; not creating it again"
else
  say "creating the cluster ($replicas replica(s) per master)"
  # shellcheck disable=SC2086 # one argument per node
  redis-cli --cluster create $nodes --cluster-replicas "$replicas" --cluster-yes
fi
wait_until every_node node_serves
wait_until every_node node_synced
wait_until every_node node_sees_all
say "cluster ready: every node serves, every replica is in sync"
