import type { AppendRecord, CompleteSeen, SendRecord, SessionLedger } from './ledger.js';

/**
 * The books of session completion in the chaos run: what the completions module asked for and
 * what Redis acknowledged (a `CompletionRequest` per completed session), checked against what
 * the producer and the client's app saw (the session's ledger). Pure: no Redis, no clock.
 */

/** When, relative to the client and the faults, a completion was asked for. */
export type CompletionMoment =
  /** At a random time, the client connected. */
  | 'connected'
  /** At a random time, the client disconnected or reconnecting. */
  | 'away'
  /** Right after a fault ended (an edge kill, a Redis-link fault, …), before clients are back. */
  | 'after_fault'
  /** During a data-loss phase's lossy window: Redis may lose the completion itself. */
  | 'at_risk';

export interface CompletionAck {
  readonly epoch: string;
  readonly finalOffset: number;
  readonly at: number;
}

export interface CompletionRequest {
  readonly sessionId: string;
  readonly moment: CompletionMoment;
  /** The client's state when the completion was asked for. */
  readonly clientState: string;
  /** The fault that had just ended (`after_fault`), or was running. */
  readonly fault: string | undefined;
  readonly requestedAt: number;
  attempts: number;
  /** Failed attempts by code (timeouts while Redis is down): retried, completion is idempotent. */
  readonly errorsByCode: Record<string, number>;
  /** The first acknowledgement, then one per re-completion after Redis lost the completion. */
  readonly acks: CompletionAck[];
  /** Each time the run found the acknowledged completion gone from Redis (a data-loss phase). */
  readonly lostToRedis: Array<{ readonly at: number; readonly detail: string }>;
  /** The completion was never acknowledged (the run gave up retrying). */
  gaveUp: boolean;
}

/** What the producer and the client's app saw of one session, taken from its ledger. */
export interface CompletionFacts {
  readonly appends: readonly AppendRecord[];
  readonly sends: readonly SendRecord[];
  readonly completes: readonly CompleteSeen[];
  readonly messagesAfterComplete: number;
  readonly closed: { readonly reason: string | undefined; readonly at: number } | undefined;
  readonly statesAfterClose: readonly string[];
  /** Resets the app got: a completion lost by Redis must reach an app still waiting as one. */
  readonly resets: ReadonlyArray<{ readonly at: number; readonly newEpoch: string }>;
  /** Producer keys the app was handed in its final view, and that view's epoch. */
  readonly finalViewKeys: ReadonlySet<string>;
  readonly finalViewEpoch: string | undefined;
  /** Producer keys the app was ever handed. */
  readonly everDelivered: ReadonlySet<string>;
}

export function factsOf(ledger: SessionLedger): CompletionFacts {
  return {
    appends: [...ledger.appends.values()],
    sends: [...ledger.sends.values()],
    completes: ledger.completes,
    messagesAfterComplete: ledger.messagesAfterComplete,
    closed: ledger.closed,
    statesAfterClose: ledger.statesAfterClose,
    resets: ledger.resets.map((r) => ({ at: r.at, newEpoch: r.reset.newEpoch })),
    finalViewKeys: ledger.view.keys,
    finalViewEpoch: ledger.view.epoch,
    everDelivered: ledger.everDelivered,
  };
}

export interface CompletionVerdict {
  readonly acknowledged: boolean;
  /** The app got `complete` matching an acknowledged completion, with everything before it. */
  readonly delivered: boolean;
  /** Appends the completion refused (`session_completed`): lost the race, never acknowledged. */
  readonly appendsRefused: number;
  /**
   * Entries between the producer's last acknowledged append and the final offset: worker
   * replies, or an append whose acknowledgement was lost (it landed, its retry was refused).
   */
  readonly tailEntries: number;
  /** Sends rejected with `session_completed` (after the completion, as they must be). */
  readonly sendsRejected: number;
  /** Sends acknowledged but never answered: the completion came first, no reply can follow. */
  readonly sendsUnanswered: number;
  /** One line per broken promise; empty when the completion kept every one. */
  readonly problems: string[];
}

/**
 * Checks one completed session:
 * - the completion was acknowledged, and no append was acknowledged after its final offset in
 *   its epoch (racing appends land before it or are refused with `session_completed`, never
 *   acknowledged and then missing); nothing was refused before the completion was asked for;
 * - the app got `complete` exactly once, matching an acknowledged completion, having handled
 *   exactly up to the final offset, with every acknowledged append of that epoch up to it and
 *   nothing after it; then `closed` with `session_completed`, and no state change after that;
 * - every send after the app's `complete` was rejected with `session_completed`;
 * - a completion Redis lost (a data-loss phase) was found and re-completed, and an app that had
 *   not completed before it was told by a reset: never skipped silently.
 * `isAnswered` says whether an acknowledged send got its complete reply.
 */
export function judgeCompletion(
  request: CompletionRequest,
  facts: CompletionFacts,
  isAnswered: (sendId: string) => boolean,
): CompletionVerdict {
  const problems: string[] = [];
  const problem = (text: string): void => void problems.push(`${request.sessionId}: ${text}`);
  const acknowledged = request.acks.length > 0;
  if (!acknowledged) problem(`completion (${request.moment}) never acknowledged`);

  // Racing appends: acknowledged before the completion, or refused. Never acknowledged after.
  let appendsRefused = 0;
  for (const record of facts.appends) {
    if (record.refusedCode === 'session_completed') {
      appendsRefused++;
      if ((record.refusedAt ?? 0) < request.requestedAt) {
        problem(`append ${record.key} refused with session_completed before the completion was asked for`);
      }
      // A refused first attempt never landed; a retry refused after a lost acknowledgement may have.
      if (record.failedAttempts <= 1 && facts.everDelivered.has(record.key)) {
        problem(`append ${record.key} refused with session_completed, yet delivered to the app`);
      }
    }
    if (record.state !== 'acked') continue;
    for (const ack of request.acks) {
      if (record.epoch === ack.epoch && (record.offset ?? 0) > ack.finalOffset) {
        problem(
          `append ${record.key} acknowledged at ${record.epoch}:${record.offset}, after the final offset ${ack.finalOffset}`,
        );
      }
    }
  }
  const firstAck = request.acks[0];
  const lastAcked = firstAck
    ? Math.max(
        0,
        ...facts.appends
          .filter((r) => r.state === 'acked' && r.epoch === firstAck.epoch)
          .map((r) => r.offset ?? 0),
      )
    : 0;
  const tailEntries = firstAck ? Math.max(0, firstAck.finalOffset - lastAcked) : 0;

  // The app: complete once, at the end of everything, then closed for good.
  const seen = facts.completes[0];
  let delivered = false;
  if (facts.completes.length > 1) problem(`the app got complete ${facts.completes.length} times`);
  if (!seen) {
    if (acknowledged) problem(`the app never got complete (client ${describeClosed(facts)})`);
  } else {
    // The completion survived a Redis data loss, but the restart rotated the epoch (a
    // non-durable Redis had served the session): the same completion, at the same final offset,
    // reaches the app in the new epoch, after a reset into it. Nothing else completes a session
    // (a completion Redis lost is completed again, and that re-completion is acknowledged).
    const carriedOver = (a: CompletionAck): boolean =>
      facts.resets.some((r) => r.at >= a.at && r.newEpoch === seen.complete.epoch);
    const ack = request.acks.find(
      (a) =>
        a.finalOffset === seen.complete.finalOffset && (a.epoch === seen.complete.epoch || carriedOver(a)),
    );
    if (!ack) {
      problem(
        `complete ${seen.complete.epoch}:${seen.complete.finalOffset} matches no acknowledged completion ` +
          `(${request.acks.map((a) => `${a.epoch}:${a.finalOffset}`).join(', ') || 'none'})`,
      );
    }
    const handled = seen.handled;
    const atFinal =
      seen.complete.finalOffset === 0
        ? !handled || (handled.epoch === seen.complete.epoch && handled.offset === 0)
        : handled?.epoch === seen.complete.epoch && handled.offset === seen.complete.finalOffset;
    if (!atFinal) {
      problem(
        `complete at ${seen.complete.epoch}:${seen.complete.finalOffset} with the app at ` +
          `${handled ? `${handled.epoch}:${handled.offset}` : 'no position'}`,
      );
    }
    const missing = facts.appends.filter(
      (r) =>
        r.state === 'acked' &&
        r.epoch === seen.complete.epoch &&
        (r.offset ?? 0) <= seen.complete.finalOffset &&
        !(facts.finalViewEpoch === seen.complete.epoch && facts.finalViewKeys.has(r.key)),
    );
    if (missing.length > 0) {
      problem(
        `${missing.length} acknowledged appends up to the final offset missing from the app (${missing
          .slice(0, 3)
          .map((r) => `${r.key}@${r.offset}`)
          .join(', ')})`,
      );
    }
    if (facts.messagesAfterComplete > 0) {
      problem(`${facts.messagesAfterComplete} messages handed to the app after complete`);
    }
    const closedByCompletion = facts.closed?.reason === 'session_completed';
    if (!closedByCompletion) {
      problem(`after complete the client is ${describeClosed(facts)}, not closed: session_completed`);
    }
    delivered =
      facts.completes.length === 1 &&
      ack !== undefined &&
      atFinal &&
      missing.length === 0 &&
      facts.messagesAfterComplete === 0 &&
      closedByCompletion;
  }
  if (facts.statesAfterClose.length > 0) {
    problem(`state changes after closed: ${facts.statesAfterClose.join(', ')} (it reconnected)`);
  }

  // A completion Redis lost: found, re-completed; an app that was still waiting was told.
  if (request.lostToRedis.length > 0 && firstAck) {
    if (request.acks.length < 2) problem('completion lost by Redis and never completed again');
    const completedBefore = seen !== undefined && seen.complete.epoch === firstAck.epoch;
    const told = facts.resets.some((r) => r.at >= firstAck.at && r.newEpoch !== firstAck.epoch);
    if (!completedBefore && !told) {
      problem('completion lost by Redis and the app, still waiting, got no reset');
    }
  }

  // Sends: after the app's complete every one rejects with session_completed.
  let sendsRejected = 0;
  let sendsUnanswered = 0;
  for (const send of facts.sends) {
    if (send.rejectedCode === 'session_completed') {
      sendsRejected++;
      if ((send.rejectedAt ?? 0) < request.requestedAt) {
        problem(`send ${send.id} rejected with session_completed before the completion was asked for`);
      }
    } else if (seen && send.sentAt > seen.at) {
      problem(
        `send ${send.id} after complete ${send.acked ? 'was acknowledged' : `rejected with ${send.rejectedCode ?? 'nothing yet'}`}, not session_completed`,
      );
    }
    if (send.acked && !isAnswered(send.id)) sendsUnanswered++;
  }
  return {
    acknowledged,
    delivered,
    appendsRefused,
    tailEntries,
    sendsRejected,
    sendsUnanswered,
    problems,
  };
}

function describeClosed(facts: CompletionFacts): string {
  return facts.closed ? `closed: ${facts.closed.reason ?? 'no reason'}` : 'not closed';
}

export interface CompletionAccounts {
  /** Sessions the run asked to complete, by moment. */
  requested: number;
  byMoment: Partial<Record<CompletionMoment, number>>;
  acknowledged: number;
  /** The app got `complete` after everything, then closed: the whole promise kept. */
  deliveredToApp: number;
  /** Completion attempts that failed (Redis down, timeouts) and were retried. */
  failedAttempts: number;
  /** Acknowledged completions found gone after a data-loss phase, and completed again. */
  lostToRedis: number;
  appendsRefused: number;
  tailEntries: number;
  sendsRejected: number;
  sendsUnanswered: number;
  /** Completions that broke a promise: the run fails on any. */
  failed: number;
  problems: string[];
}

export function settleCompletions(
  judged: ReadonlyArray<{ request: CompletionRequest; verdict: CompletionVerdict }>,
): CompletionAccounts {
  const a: CompletionAccounts = {
    requested: 0,
    byMoment: {},
    acknowledged: 0,
    deliveredToApp: 0,
    failedAttempts: 0,
    lostToRedis: 0,
    appendsRefused: 0,
    tailEntries: 0,
    sendsRejected: 0,
    sendsUnanswered: 0,
    failed: 0,
    problems: [],
  };
  for (const { request, verdict } of judged) {
    a.requested++;
    a.byMoment[request.moment] = (a.byMoment[request.moment] ?? 0) + 1;
    if (verdict.acknowledged) a.acknowledged++;
    if (verdict.delivered) a.deliveredToApp++;
    a.failedAttempts += Object.values(request.errorsByCode).reduce((n, v) => n + v, 0);
    if (request.lostToRedis.length > 0) a.lostToRedis++;
    a.appendsRefused += verdict.appendsRefused;
    a.tailEntries += verdict.tailEntries;
    a.sendsRejected += verdict.sendsRejected;
    a.sendsUnanswered += verdict.sendsUnanswered;
    if (verdict.problems.length > 0) a.failed++;
    a.problems.push(...verdict.problems);
  }
  return a;
}
