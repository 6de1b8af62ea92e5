/**
 * Consumer leases on Redis, and the owner of the lease fencing protocol: its three Redis sides
 * are lua/claim-n.lua, lua/lease-3.lua (run from here) and the fencing check of lua/ack-n.lua
 * (run by the outbound log, with the argument `leaseFencingArg` makes here).
 *
 * The fencing protocol, end to end:
 * - The token. Each consumer of a session (a client identity; several devices share none) has
 *   one lease, stored in the session's meta hash: `lease:<consumer>` is the generation of the
 *   consumer's newest connection, `holder:<consumer>` that connection's id, and
 *   `seen:<consumer>` until when (Redis ms) the consumer counts as connected.
 * - Who increments it. Only the claim (lib-session.lua hf_claim, run by claim-n.lua for the
 *   claims of one event-loop turn), atomically (HINCRBY), when an edge accepts a new
 *   connection of the consumer. Renewals and releases never change it, so it only
 *   grows while Redis keeps what it acknowledged. The claim returns the new generation and the
 *   previous holder, whose edge is then told to close it (`replaced`), unless that holder
 *   released the lease (its connection closed cleanly).
 * - The client's order (protocol 4). Claims reach Redis in whatever order edges send them, and
 *   an attempt a client gave up on at a stalled edge can arrive after its next attempt was
 *   accepted elsewhere. So a connection may name its client instance and attempt number; the
 *   script keeps the newest attempt of each recent instance of the consumer and refuses an
 *   older one (`superseded`, a retry for its client, which has normally moved on) without
 *   touching the generation. Fencing between different instances is unchanged.
 * - Renewal. An edge renews each connection's lease a few times per lease period (lease-3.lua).
 *   The script answers the consumer's current generation and acts (presence, idle expiry)
 *   only when it equals the caller's own; a release by a fenced connection changes nothing.
 * - Acks. Every ack from a connection carries its generation; ack-n.lua refuses it with
 *   HF_FENCED (`replaced`, with the current generation in its details) unless it equals the
 *   stored one. Producers and the HTTP API ack without a generation and are never fenced.
 * - Reading an answer (`classifyLease`, lease-status.ts) against the generation held:
 *   equal: still held. Higher: fenced, a newer connection of the consumer took over; stop
 *   delivering and close (`replaced`, final). Lower (including 0, no lease stored at all):
 *   Redis went back in time, restored from an older snapshot or AOF, or failed over to a
 *   replica that had not seen the claim; nobody took over, so the connection ends with a
 *   retryable error and its client claims a fresh lease. No answer (renewal): the session is
 *   gone (ended, expired, or lost with the data).
 * - Time. The lease also bounds how long an edge may deliver without hearing from Redis: the
 *   edge's LeaseKeeper stops delivery once its last confirmation is `leaseMs` old.
 *
 * A known limit: after a rollback, a generation can be handed out twice (rolled back from 4 to
 * 3, the next claim makes 4 again), and a connection still holding the old 4 that renews after
 * that claim reads "held". Both then deliver until one reconnects; acks stay monotonic, so the
 * cost is duplicate delivery, not loss.
 */
import {
  ErrorCode,
  HoldfastError,
  assertConsumerId,
  isHoldfastError,
  isInstanceId,
  type ConnectionAttempt,
} from '@holdfast/protocol';
import type { ConsumerLeases, HeldLease, LeaseClaim } from './consumer-leases.js';
import { partitionOf, type SessionKeys } from './keys.js';
import { planLeaseBatches } from './lease-batches.js';
import { toHoldfastError } from './redis-errors.js';
import { checkReply } from './script-errors.js';
import type { ScriptRunner } from './script-runner.js';
import { TickBatcher, type BatchedRequest } from './tick-batcher.js';

/** How long a claimed lease lasts unless renewed, when the caller names no period. */
const DEFAULT_LEASE_MS = 15_000;

/**
 * Most leases one batch renewal carries: a script blocks Redis while it runs (a few µs per
 * lease), so 10,000 idle connections are 40 short calls per round instead of one long one
 * (on a cluster, at least one per partition with leases: lease-batches.ts).
 */
export const LEASE_RENEW_BATCH = 256;

/**
 * The last value of each ack in ack-n.lua: the acking connection's lease generation, or "" for a
 * caller that holds no lease (a producer, the HTTP API), which the fencing check lets through.
 */
export function leaseFencingArg(leaseGeneration: number | undefined): number | string {
  return leaseGeneration ?? '';
}

/**
 * The claim's last two arguments: the instance and the attempt as digits (a safe integer never
 * prints with an exponent, so Lua's pattern matching reads it back), or "" for none. Checked
 * here too, since Lua would store whatever it is given in a space-separated field.
 */
function attemptArgs(attempt: ConnectionAttempt | undefined): [string, string] {
  if (!attempt) return ['', ''];
  const { instance, attempt: n } = attempt;
  if (!isInstanceId(instance) || !Number.isSafeInteger(n) || n < 1) {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `a claim's attempt needs an instance of 1-64 characters of A-Z a-z 0-9 _ - and a positive safe integer, got ${JSON.stringify(attempt)}`,
    );
  }
  return [instance, String(n)];
}

/** Most claims in one claim-n.lua call. */
export const CLAIM_BATCH = 128;
/** Claim flushes in flight at once; claims arriving meanwhile go together in the next ones. */
const CLAIM_FLUSHES_IN_FLIGHT = 4;

interface PendingClaim extends BatchedRequest {
  readonly keys: SessionKeys;
  /** consumer, holder, lease ms, instance, attempt (claim-n.lua's per-claim arguments). */
  readonly args: [string, string, number, string, string];
  readonly resolve: (claim: LeaseClaim) => void;
}

/** Answer one claim from its part of a claim-n.lua reply, as a claim alone would be answered. */
function settleClaim(claim: PendingClaim, part: unknown): void {
  try {
    if (part instanceof Error) throw part;
    const reply = checkReply(part, claim.sessionId);
    const previous = String(reply[2]);
    claim.resolve({ generation: Number(reply[1]), previousHolder: previous === '' ? undefined : previous });
  } catch (error) {
    claim.reject(toHoldfastError(error));
  }
}

export class RedisConsumerLeases implements ConsumerLeases {
  private readonly claims: TickBatcher<PendingClaim>;

  constructor(private readonly runner: ScriptRunner) {
    this.claims = new TickBatcher({
      runner,
      maxPerCall: CLAIM_BATCH,
      flushesInFlight: CLAIM_FLUSHES_IN_FLIGHT,
      call: (claims) => this.claimCall(claims),
    });
  }

  /** One claim-n.lua call; written before anything is awaited, so calls keep arrival order. */
  private async claimCall(claims: readonly PendingClaim[]): Promise<void> {
    const keys: string[] = [];
    const args: Array<string | number> = [this.runner.options.tombstoneTtlMs];
    for (const claim of claims) {
      keys.push(claim.keys.meta, claim.keys.log, claim.keys.tomb);
      args.push(...claim.args);
    }
    let reply: unknown[];
    try {
      reply = await this.runner.run((claims[0] as PendingClaim).sessionId, 'claimMany', keys, args);
    } catch (error) {
      for (const claim of claims) claim.reject(error);
      return;
    }
    claims.forEach((claim, i) => settleClaim(claim, reply[i + 1]));
  }

  /**
   * Claims arriving in one event-loop turn go out together (claim-n.lua, tick-batcher.ts), in
   * arrival order: on one edge, claims of a session reach Redis in the order they were asked.
   */
  claimLease(
    sessionId: string,
    consumerId: string,
    holder: string,
    leaseMs = DEFAULT_LEASE_MS,
    attempt?: ConnectionAttempt,
  ): Promise<LeaseClaim> {
    let keys: SessionKeys;
    let attemptArg: [string, string];
    try {
      keys = this.runner.keys(sessionId);
      assertConsumerId(consumerId);
      attemptArg = attemptArgs(attempt);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise<LeaseClaim>((resolve, reject) => {
      this.claims.submit({
        sessionId,
        keys,
        args: [consumerId, holder, leaseMs, ...attemptArg],
        resolve,
        reject,
      });
    });
  }

  renewLease(
    sessionId: string,
    consumerId: string,
    generation: number,
    leaseMs: number,
  ): Promise<number | undefined> {
    return this.lease(sessionId, consumerId, generation, 'renew', leaseMs);
  }

  /**
   * One script call per batch (lease-batches.ts), all written at once. On a cluster a call's
   * keys must share a slot, so batches there hold leases of one partition only.
   */
  async renewLeases(leases: readonly HeldLease[], leaseMs: number): Promise<Array<number | undefined>> {
    const { partitions, tombstoneTtlMs } = this.runner.options;
    for (const lease of leases) assertConsumerId(lease.consumerId);
    const keysOf = leases.map((lease) => this.runner.keys(lease.sessionId));
    const batches = planLeaseBatches(
      leases.map((lease) => partitionOf(lease.sessionId, partitions)),
      LEASE_RENEW_BATCH,
      await this.runner.onePartitionPerCall(),
    );
    const answers = new Array<number | undefined>(leases.length);
    await Promise.all(
      batches.map(async (batch) => {
        const keys: string[] = [];
        const args: Array<string | number> = [leaseMs, tombstoneTtlMs];
        for (const i of batch) {
          const lease = leases[i] as HeldLease;
          const k = keysOf[i] as SessionKeys;
          keys.push(k.meta, k.log, k.tomb);
          args.push(lease.consumerId, lease.generation);
        }
        const first = leases[batch[0] as number] as HeldLease;
        const reply = await this.runner.run(first.sessionId, 'leaseRenewMany', keys, args);
        batch.forEach((i, j) => {
          const current = Number(reply[j + 1]);
          answers[i] = current < 0 ? undefined : current;
        });
      }),
    );
    return answers;
  }

  async releaseLease(sessionId: string, consumerId: string, generation: number): Promise<void> {
    await this.lease(sessionId, consumerId, generation, 'release', 0);
  }

  private async lease(
    sessionId: string,
    consumerId: string,
    generation: number,
    action: 'renew' | 'release',
    leaseMs: number,
  ): Promise<number | undefined> {
    const keys = this.runner.keys(sessionId);
    assertConsumerId(consumerId);
    try {
      const reply = await this.runner.run(
        sessionId,
        'lease',
        [keys.meta, keys.log, keys.tomb],
        [consumerId, generation, action, leaseMs, this.runner.options.tombstoneTtlMs],
      );
      return Number(reply[1]);
    } catch (error) {
      if (
        isHoldfastError(error, ErrorCode.SessionEnded) ||
        isHoldfastError(error, ErrorCode.SessionNotFound)
      ) {
        return undefined;
      }
      throw error;
    }
  }
}
