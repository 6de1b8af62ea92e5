import type { Anomaly, SessionLedger } from './ledger.js';

export interface Accounts {
  sessions: number;
  appends: {
    attempted: number;
    acknowledged: number;
    /** Acknowledged after at least one failed or timed-out attempt with the same id. */
    acknowledgedAfterRetry: number;
    /** Acknowledged as already written: an earlier indeterminate attempt had landed. */
    acknowledgedAsDuplicate: number;
    /** Never acknowledged (the run ended while retrying, or refused). */
    indeterminate: number;
    /** Of those, refused with `session_completed`: they lost the race with the session's completion. */
    refusedByCompletion: number;
    /** Acknowledged, never handed to the app, and no reset told the app its epoch was gone. */
    lost: number;
    /** Acknowledged and gone with an epoch the app was told (reset) was gone: Redis lost it, loudly. */
    lostSurfaced: number;
  };
  delivered: {
    messages: number;
    duplicates: number;
    reorders: number;
    unexpected: number;
  };
  inbound: {
    sent: number;
    acknowledged: number;
    processed: number;
    /** Acknowledged, never answered, not dead-lettered, and no reset since. */
    lost: number;
    /** Acknowledged and unanswered after a reset (Redis lost the inbox with the data). */
    lostSurfaced: number;
    /**
     * Acknowledged, unanswered, in a session the producer completed: no reply can be appended
     * after the completion, so none comes. Not lost (completion-accounts.ts checks the session).
     */
    cutByCompletion: number;
    processedTwice: number;
    deadLettered: number;
    /** Answered after an attempt was cut short (`attempt_aborted`): a worker died mid-reply. */
    answeredAfterAbort: number;
  };
  resets: { total: number; sessions: number; byReason: Record<string, number> };
  /** Sessions whose client did not reach the head of the log before the drain timed out. */
  undrained: string[];
  /** The first few anomalies and losses, to start the investigation from. */
  examples: string[];
  /** The first few acknowledged inbound messages never answered (`inbound.lost`), to look up in Redis. */
  lostInbound: Array<{ sessionId: string; messageId: string }>;
}

/** Settles the books once every session drained: what was acknowledged against what the apps got. */
export function settle(
  ledgers: readonly SessionLedger[],
  undrained: string[],
  isCompleted: (sessionId: string) => boolean = () => false,
): Accounts {
  const a: Accounts = {
    sessions: ledgers.length,
    appends: {
      attempted: 0,
      acknowledged: 0,
      acknowledgedAfterRetry: 0,
      acknowledgedAsDuplicate: 0,
      indeterminate: 0,
      refusedByCompletion: 0,
      lost: 0,
      lostSurfaced: 0,
    },
    delivered: { messages: 0, duplicates: 0, reorders: 0, unexpected: 0 },
    inbound: {
      sent: 0,
      acknowledged: 0,
      processed: 0,
      lost: 0,
      lostSurfaced: 0,
      cutByCompletion: 0,
      processedTwice: 0,
      deadLettered: 0,
      answeredAfterAbort: 0,
    },
    resets: { total: 0, sessions: 0, byReason: {} },
    undrained,
    examples: [],
    lostInbound: [],
  };
  const example = (text: string): void => {
    if (a.examples.length < 20) a.examples.push(text);
  };
  const anomalies: Anomaly[] = [];

  for (const ledger of ledgers) {
    const finalView = ledger.view;
    const goneEpochs = ledger.resetEpochs();
    const resetAfter = (at: number): boolean => ledger.resets.some((r) => r.at >= at);
    const completed = isCompleted(ledger.sessionId);

    for (const record of ledger.appends.values()) {
      a.appends.attempted++;
      if (record.state !== 'acked') {
        a.appends.indeterminate++;
        if (record.refusedCode === 'session_completed') a.appends.refusedByCompletion++;
        continue;
      }
      a.appends.acknowledged++;
      if (record.failedAttempts > 0) a.appends.acknowledgedAfterRetry++;
      if (record.duplicateAck) a.appends.acknowledgedAsDuplicate++;
      if (finalView.keys.has(record.key)) continue;
      // Gone with its epoch, and the client was told: it left that epoch by a reset, or (when
      // it was away the whole time the epoch lived) a reset after the acknowledgement moved it
      // to a later epoch.
      const toldAfter = ledger.resets.some(
        (r) => r.at >= (record.ackedAt ?? 0) && r.reset.newEpoch !== record.epoch,
      );
      if (
        record.epoch !== undefined &&
        (goneEpochs.has(record.epoch) || (record.epoch !== finalView.epoch && toldAfter))
      ) {
        a.appends.lostSurfaced++;
      } else {
        a.appends.lost++;
        example(
          `lost: ${record.key} acknowledged at ${record.epoch}:${record.offset}` +
            `${ledger.everDelivered.has(record.key) ? ' (delivered in an earlier view)' : ''}; resets: ` +
            `${ledger.resets.map((r) => `${r.reset.reason} ${r.reset.oldEpoch}->${r.reset.newEpoch}`).join(', ') || 'none'}`,
        );
      }
    }

    for (const send of ledger.sends.values()) {
      a.inbound.sent++;
      if (!send.acked) continue;
      a.inbound.acknowledged++;
      const outcome = ledger.inboundOutcome(send.id);
      if (outcome.completions > 1) {
        a.inbound.processedTwice++;
        example(`processed twice: ${send.id} (${outcome.completions} complete replies standing)`);
      }
      if (outcome.completions > 0 && outcome.aborted) a.inbound.answeredAfterAbort++;
      if (outcome.completions > 0) a.inbound.processed++;
      else if (outcome.errored) a.inbound.deadLettered++;
      else if (resetAfter(send.ackedAt ?? 0)) a.inbound.lostSurfaced++;
      else if (completed) a.inbound.cutByCompletion++;
      else {
        a.inbound.lost++;
        if (a.lostInbound.length < 20)
          a.lostInbound.push({ sessionId: ledger.sessionId, messageId: send.id });
        example(
          `inbound lost: ${send.id} acknowledged at ${new Date(send.ackedAt ?? 0).toISOString()}, never answered`,
        );
      }
    }

    a.delivered.messages += ledger.delivered;
    anomalies.push(...ledger.anomalies);
    if (ledger.resets.length > 0) a.resets.sessions++;
    for (const { reset } of ledger.resets) {
      a.resets.total++;
      a.resets.byReason[reset.reason] = (a.resets.byReason[reset.reason] ?? 0) + 1;
    }
  }
  for (const anomaly of anomalies) {
    if (anomaly.kind === 'duplicate') a.delivered.duplicates++;
    else if (anomaly.kind === 'reorder') a.delivered.reorders++;
    else a.delivered.unexpected++;
  }
  for (const anomaly of anomalies.slice(0, 10)) {
    example(
      `${anomaly.kind}: ${anomaly.sessionId} at ${new Date(anomaly.at).toISOString()}: ${anomaly.detail}`,
    );
  }
  return a;
}

/** Why the run fails, if it does: one line per broken promise. */
export function failures(a: Accounts, faultErrors: string[], unsurfacedLossPhases: string[]): string[] {
  const out: string[] = [];
  if (a.appends.lost > 0) out.push(`${a.appends.lost} acknowledged appends lost`);
  if (a.delivered.duplicates > 0) out.push(`${a.delivered.duplicates} duplicates delivered to the app`);
  if (a.delivered.reorders > 0) out.push(`${a.delivered.reorders} messages out of order or with a gap`);
  if (a.delivered.unexpected > 0) out.push(`${a.delivered.unexpected} unexpected messages`);
  if (a.inbound.lost > 0) out.push(`${a.inbound.lost} acknowledged inbound messages never processed`);
  if (a.inbound.processedTwice > 0) out.push(`${a.inbound.processedTwice} inbound messages processed twice`);
  if (a.undrained.length > 0) out.push(`${a.undrained.length} sessions did not drain to their head`);
  for (const phase of unsurfacedLossPhases) out.push(phase);
  for (const error of faultErrors) out.push(`fault not injected: ${error}`);
  return out;
}
