import { describe, expect, it } from 'vitest';
import { settle } from '../chaos/accounting.js';
import {
  factsOf,
  judgeCompletion,
  settleCompletions,
  type CompletionRequest,
} from '../chaos/completion-accounts.js';
import { checksum, SessionLedger, type AppendRecord } from '../chaos/ledger.js';

const EPOCH = 'e1';
const SESSION = 's1';

/** A session whose producer appended `count` messages, all acknowledged at offsets 1..count. */
function ledgerWith(count: number): SessionLedger {
  const ledger = new SessionLedger(SESSION);
  for (let seq = 1; seq <= count; seq++) append(ledger, seq, { state: 'acked', epoch: EPOCH, offset: seq });
  return ledger;
}

function append(ledger: SessionLedger, seq: number, fields: Partial<AppendRecord>): AppendRecord {
  const record: AppendRecord = {
    key: `${SESSION}.${seq}`,
    seq,
    state: 'pending',
    failedAttempts: 0,
    duplicateAck: false,
    ackedAt: 100 + seq,
    ...fields,
  };
  ledger.appends.set(record.key, record);
  return record;
}

/** The app handles offsets `from..to` of `epoch`, each carrying producer message `seq = offset`. */
function deliver(ledger: SessionLedger, from: number, to: number, epoch = EPOCH, at = 1_000): void {
  for (let offset = from; offset <= to; offset++) {
    const k = `${SESSION}.${offset}`;
    ledger.onMessage(epoch, offset, { k, s: offset, h: checksum(k) }, at + offset);
  }
}

function completeAndClose(ledger: SessionLedger, finalOffset: number, epoch = EPOCH, at = 2_000): void {
  ledger.onComplete({ epoch, finalOffset }, at);
  ledger.onState('closed', 'session_completed', at);
}

function request(fields: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    sessionId: SESSION,
    moment: 'connected',
    clientState: 'open',
    fault: undefined,
    requestedAt: 500,
    attempts: 1,
    errorsByCode: {},
    acks: [{ epoch: EPOCH, finalOffset: 3, at: 600 }],
    lostToRedis: [],
    gaveUp: false,
    ...fields,
  };
}

const judge = (r: CompletionRequest, ledger: SessionLedger, answered = (_id: string) => false) =>
  judgeCompletion(r, factsOf(ledger), answered);

describe('chaos completion accounting', () => {
  it('passes a completion the app got after every acknowledged message, then closed', () => {
    const ledger = ledgerWith(3);
    // The producer's next append lost the race: refused on its first attempt, never delivered.
    append(ledger, 4, {
      state: 'indeterminate',
      failedAttempts: 1,
      refusedCode: 'session_completed',
      refusedAt: 700,
    });
    deliver(ledger, 1, 3);
    completeAndClose(ledger, 3);
    ledger.sends.set('m1', {
      id: 'm1',
      sentAt: 2_500,
      acked: false,
      duplicateAck: false,
      rejectedCode: 'session_completed',
      rejectedAt: 2_500,
    });

    const verdict = judge(request(), ledger);
    expect(verdict.problems).toEqual([]);
    expect(verdict).toMatchObject({
      acknowledged: true,
      delivered: true,
      appendsRefused: 1,
      sendsRejected: 1,
      tailEntries: 0,
    });
  });

  it('counts entries after the last acknowledged append (worker replies, lost acks) without failing', () => {
    const ledger = ledgerWith(2);
    deliver(ledger, 1, 2);
    // Offset 3 is the producer's append 3, whose acknowledgement was lost; its retry was refused.
    append(ledger, 3, {
      state: 'indeterminate',
      failedAttempts: 2,
      refusedCode: 'session_completed',
      refusedAt: 700,
    });
    deliver(ledger, 3, 3);
    completeAndClose(ledger, 3);
    const verdict = judge(request(), ledger);
    expect(verdict.problems).toEqual([]);
    expect(verdict.tailEntries).toBe(1);
  });

  it('fails an append acknowledged after the final offset', () => {
    const ledger = ledgerWith(4);
    deliver(ledger, 1, 3);
    completeAndClose(ledger, 3);
    expect(judge(request(), ledger).problems).toEqual([
      expect.stringContaining(`append ${SESSION}.4 acknowledged at e1:4, after the final offset 3`),
    ]);
  });

  it('fails an append refused with session_completed on its first attempt yet delivered', () => {
    const ledger = ledgerWith(2);
    append(ledger, 3, {
      state: 'indeterminate',
      failedAttempts: 1,
      refusedCode: 'session_completed',
      refusedAt: 700,
    });
    deliver(ledger, 1, 3);
    completeAndClose(ledger, 3);
    expect(judge(request(), ledger).problems).toEqual([
      expect.stringContaining('refused with session_completed, yet delivered'),
    ]);
  });

  it('fails a complete before the app handled everything up to the final offset', () => {
    const ledger = ledgerWith(3);
    deliver(ledger, 1, 2);
    completeAndClose(ledger, 3);
    const verdict = judge(request(), ledger);
    expect(verdict.delivered).toBe(false);
    expect(verdict.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('with the app at e1:2'),
        expect.stringContaining('1 acknowledged appends up to the final offset missing'),
      ]),
    );
  });

  it('fails a complete that matches no acknowledged completion', () => {
    const ledger = ledgerWith(3);
    deliver(ledger, 1, 3);
    completeAndClose(ledger, 3, 'e0');
    expect(judge(request(), ledger).problems).toEqual(
      expect.arrayContaining([expect.stringContaining('complete e0:3 matches no acknowledged completion')]),
    );
  });

  it('accepts a completion that survived a data loss whose restart rotated the epoch', () => {
    // Acknowledged at e1:3; Redis kept it, but the next process was not durable, so the epoch
    // rotated to e2: the app is reset into e2, replays, and gets the same completion there.
    const carried = ledgerWith(3);
    deliver(carried, 1, 2);
    carried.onReset(
      { reason: 'epoch_changed', oldEpoch: EPOCH, newEpoch: 'e2', resumeFrom: 1, firstAvailable: 1 },
      4_000,
    );
    deliver(carried, 1, 3, 'e2', 4_100);
    completeAndClose(carried, 3, 'e2', 6_000);
    expect(judge(request(), carried).problems).toEqual([]);

    // A reset into e2 before the completion was acknowledged says nothing about it.
    const early = ledgerWith(3);
    early.onReset(
      { reason: 'epoch_changed', oldEpoch: EPOCH, newEpoch: 'e2', resumeFrom: 1, firstAvailable: 1 },
      500,
    );
    deliver(early, 1, 3, 'e2', 4_100);
    completeAndClose(early, 3, 'e2', 6_000);
    expect(judge(request(), early).problems).toEqual([
      expect.stringContaining('complete e2:3 matches no acknowledged completion'),
    ]);

    // Another final offset in the new epoch is another completion: no match.
    const other = ledgerWith(3);
    other.onReset(
      { reason: 'epoch_changed', oldEpoch: EPOCH, newEpoch: 'e2', resumeFrom: 1, firstAvailable: 1 },
      4_000,
    );
    deliver(other, 1, 2, 'e2', 4_100);
    completeAndClose(other, 2, 'e2', 6_000);
    expect(judge(request(), other).problems).toEqual([
      expect.stringContaining('complete e2:2 matches no acknowledged completion'),
    ]);
  });

  it('fails a missing complete, a second one, messages after it, a wrong close and a reconnect', () => {
    const never = ledgerWith(3);
    deliver(never, 1, 3);
    expect(judge(request(), never).problems).toEqual([
      expect.stringContaining('never got complete (client not closed)'),
    ]);

    const twice = ledgerWith(3);
    deliver(twice, 1, 3);
    twice.onComplete({ epoch: EPOCH, finalOffset: 3 }, 2_000);
    deliver(twice, 3, 3); // a message handed after complete
    twice.onComplete({ epoch: EPOCH, finalOffset: 3 }, 2_100);
    twice.onState('closed', 'session_ended', 2_200);
    twice.onState('resuming', 'connection_lost', 2_300);
    const verdict = judge(request(), twice);
    expect(verdict.delivered).toBe(false);
    expect(verdict.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('complete 2 times'),
        expect.stringContaining('1 messages handed to the app after complete'),
        expect.stringContaining('not closed: session_completed'),
        expect.stringContaining('state changes after closed: resuming:connection_lost'),
      ]),
    );
  });

  it('fails a send after complete that is not rejected with session_completed', () => {
    const ledger = ledgerWith(3);
    deliver(ledger, 1, 3);
    completeAndClose(ledger, 3);
    ledger.sends.set('m2', { id: 'm2', sentAt: 2_500, acked: true, ackedAt: 2_600, duplicateAck: false });
    ledger.sends.set('m3', {
      id: 'm3',
      sentAt: 2_700,
      acked: false,
      duplicateAck: false,
      rejectedCode: 'session_closed',
    });
    const problems = judge(request(), ledger).problems;
    expect(problems).toEqual([
      expect.stringContaining('send m2 after complete was acknowledged'),
      expect.stringContaining('send m3 after complete rejected with session_closed'),
    ]);
  });

  it('fails a completion never acknowledged', () => {
    const ledger = ledgerWith(3);
    deliver(ledger, 1, 3);
    expect(judge(request({ acks: [], gaveUp: true }), ledger).problems).toEqual([
      expect.stringContaining('never acknowledged'),
    ]);
  });

  it('accepts a completion Redis lost only when it was completed again and a waiting app was told', () => {
    const lost = { at: 5_000, detail: 'not completed in epoch e2 (head 0)' };
    const acks = [
      { epoch: EPOCH, finalOffset: 3, at: 600 },
      { epoch: 'e2', finalOffset: 0, at: 5_100 },
    ];
    // The app was away: it got a reset to the new epoch, then the re-completion's complete.
    const told = ledgerWith(3);
    deliver(told, 1, 2);
    told.onReset(
      { reason: 'epoch_changed', oldEpoch: EPOCH, newEpoch: 'e2', resumeFrom: 1, firstAvailable: 1 },
      4_000,
    );
    completeAndClose(told, 0, 'e2', 6_000);
    expect(judge(request({ acks, lostToRedis: [lost] }), told).problems).toEqual([]);

    // The app had completed before the loss: nothing to tell it.
    const before = ledgerWith(3);
    deliver(before, 1, 3);
    completeAndClose(before, 3);
    expect(judge(request({ acks, lostToRedis: [lost] }), before).problems).toEqual([]);

    // Lost, not completed again, and the waiting app never heard of it.
    const silent = ledgerWith(3);
    deliver(silent, 1, 2);
    expect(judge(request({ acks: acks.slice(0, 1), lostToRedis: [lost] }), silent).problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('never completed again'),
        expect.stringContaining('the app, still waiting, got no reset'),
      ]),
    );
  });

  it('adds up completions and counts unanswered prompts of completed sessions as cut, not lost', () => {
    const done = ledgerWith(3);
    deliver(done, 1, 3);
    completeAndClose(done, 3);
    done.sends.set('m1', { id: 'm1', sentAt: 400, acked: true, ackedAt: 450, duplicateAck: false });
    const broken = ledgerWith(3);
    deliver(broken, 1, 2);
    const accounts = settleCompletions([
      { request: request({ errorsByCode: { error: 2 } }), verdict: judge(request(), done) },
      { request: request({ moment: 'after_fault' }), verdict: judge(request(), broken) },
    ]);
    expect(accounts).toMatchObject({
      requested: 2,
      byMoment: { connected: 1, after_fault: 1 },
      acknowledged: 2,
      deliveredToApp: 1,
      failedAttempts: 2,
      sendsUnanswered: 1,
      failed: 1,
    });

    expect(settle([done], [], () => true).inbound).toMatchObject({ lost: 0, cutByCompletion: 1 });
    expect(settle([done], [], () => false).inbound).toMatchObject({ lost: 1, cutByCompletion: 0 });
  });
});
