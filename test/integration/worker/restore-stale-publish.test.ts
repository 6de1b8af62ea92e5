/**
 * A reply written by a run of the lost timeline must not swallow the reply of the message that
 * takes its place after a Redis data-loss restore (docs/reliability.md, "one prompt
 * acknowledged after the last data-loss restore never answered").
 *
 * Publishing is two calls: the inbox's publish step checks the run still owns its message, then
 * the append writes the reply. An append issued while Redis is down waits for the reconnection
 * (the session log's identity wait, up to commandTimeoutMs) and runs on whatever Redis came
 * back. After a restore that is older data: the step was checked against the lost timeline, and
 * the reply lands anyway. The inbox's sequence numbers went back with the restore, so the next
 * message accepted gets the lost message's number; its replies used to get the same ids
 * (`in<seq>.a<attempt>.i<n>`), the log's dedupe took them for resends of the stray reply and
 * wrote nothing, and the run marked the message done: acknowledged, settled, never answered.
 *
 * Since then the append itself is fenced too: it is bound to the run id of the Redis process
 * that answered the step (`appendBatch`'s `onServer`), so the stray reply no longer lands at
 * all (docs/reliability.md, "after a data-loss restore, a run of the lost timeline can still
 * write to the restored log").
 *
 * Real Redis (no AOF: the restart loads a snapshot taken before the lost message), the real
 * inbox run and log; the only hook is where the restore happens: between the first run's
 * publish step and its append.
 */
import { describe, expect, it } from 'vitest';
import { InboxRunExecution, runInbox, type InboxLog } from '@holdfast/worker';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';
import { directRunDeps, readEnvelopes, restartAndReconnect } from './worker-harness.js';

const own = useOwnRedisServer({ appendonly: false });
const logs = own.logs;

describe('a reply of the lost timeline landing after a data-loss restore', () => {
  it("does not swallow the reply of the message that took the lost message's sequence number", async () => {
    const log = await logs.open({ inboundRatePerSession: 0 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await own.server.client().save(); // the snapshot: the session, an empty inbox

    // The lost timeline: message "lost" (seq 1, round 1); its run passes the publish step.
    const lost = await log.enqueueInbound(sessionId, { id: 'lost', data: 'q1' });
    expect(lost).toMatchObject({ seq: 1, generation: 1 });
    let restored = false;
    const restoringLog: InboxLog = {
      nextInbound: (id, round, token) => log.nextInbound(id, round, token),
      stepInbound: (id, step) => log.stepInbound(id, step),
      appendBatch: async (id, messages, options) => {
        if (!restored) {
          restored = true;
          await restartAndReconnect(own.server, log, sessionId);
        }
        return log.appendBatch(id, messages, options);
      },
    };
    const stale = await runInbox({ sessionId, generation: 1 }, new InboxRunExecution(), {
      ...directRunDeps,
      log: restoringLog,
      handler: (ctx) => ctx.publish(`answer to ${ctx.message.id}`),
    });
    expect(restored).toBe(true);
    // Its append was bound to the Redis process that answered its publish step, so the
    // restarted one refused it; the step, taken again, found the restored inbox: fenced.
    expect(stale).toBe('fenced');
    const strays = (await readEnvelopes(log, sessionId)).filter((e) => e.$holdfast === 'reply');
    expect(strays).toEqual([]);

    // After the restore: the client's next prompt gets the same sequence number and round.
    const next = await log.enqueueInbound(sessionId, { id: 'next', data: 'q2' });
    expect(next).toMatchObject({ seq: 1, generation: 1, duplicate: false });
    const outcome = await runInbox({ sessionId, generation: 1 }, new InboxRunExecution(), {
      ...directRunDeps,
      log,
      handler: (ctx) => ctx.publish(`answer to ${ctx.message.id}`),
    });
    expect(outcome).toBe('idle');

    const replies = (await readEnvelopes(log, sessionId)).filter((e) => e.$holdfast === 'reply');
    expect(replies).toContainEqual({
      $holdfast: 'reply',
      messageId: 'next',
      attempt: 1,
      data: 'answer to next',
    });
  });
});
