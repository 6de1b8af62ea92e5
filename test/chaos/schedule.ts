import type { Random } from '@holdfast/testing';
import { REDIS_LINK_FAULT_KINDS } from './redis-link-faults.js';

/** Every kind of fault the chaos phase injects (the data-loss phases are separate). */
export const FAULT_KINDS = [
  'edge_kill',
  'edge_term',
  'edge_stop',
  'client_cut',
  'client_blackhole',
  'redis_kill',
  'redis_pause_writes',
  'redis_stop',
  'worker_kill',
  'all_edges_kill',
  ...REDIS_LINK_FAULT_KINDS,
] as const;

/**
 * The faults of the Redis Cluster topology (`--topology redis-cluster`): the process and client
 * faults, which involve no single Redis, and two of the cluster's own. The single-server faults
 * (redis_kill, redis_pause_writes, redis_stop) and the Redis link proxies have no counterpart:
 * ioredis's Cluster client connects to the addresses the nodes announce, not through a proxy.
 */
export const CLUSTER_FAULT_KINDS = [
  'edge_kill',
  'edge_term',
  'edge_stop',
  'client_cut',
  'client_blackhole',
  'worker_kill',
  'all_edges_kill',
  // kill -9 of a master holding sessions, its replica promoted, the old master back as a replica.
  'master_kill',
  // The same, its replica cut off from it for 1.5 s before: acknowledged appends are lost.
  'master_kill_stale_replica',
  // redis-cli --cluster reshard of some slots from one master to another under load.
  'slot_move',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number] | (typeof CLUSTER_FAULT_KINDS)[number];

/** Faults of the data-loss phases: Redis loses acknowledged writes and clients must be told. */
export const LOSS_KINDS = ['redis_loss_everysec', 'redis_loss_no_persistence'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];

export interface PlannedFault {
  readonly kind: FaultKind;
  /** Which edge, worker or client proxy (taken modulo how many there are). */
  readonly target: number;
  /** Quiet time before this fault. */
  readonly gapMs: number;
}

/**
 * The seeded fault schedule: each round is every kind once, in a shuffled order, so a run of
 * one round (the short profile) fires every kind and longer runs keep the mix even.
 */
export function* faultSchedule(
  random: Random,
  gapMs: readonly [number, number],
  kinds: readonly FaultKind[] = FAULT_KINDS,
): Generator<PlannedFault> {
  for (;;) {
    for (const kind of random.shuffle(kinds)) {
      yield { kind, target: random.int(0, 1_000), gapMs: random.int(gapMs[0], gapMs[1]) };
    }
  }
}
