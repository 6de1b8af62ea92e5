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
export type FaultKind = (typeof FAULT_KINDS)[number];

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
