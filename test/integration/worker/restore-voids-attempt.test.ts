/**
 * A message must not be settled on a reply that Redis lost (chaos short profile, CI run of
 * 2026-12-06, seed 1304788624: prompt `m16` of session 73 acknowledged, its inbox settled,
 * never answered).
 *
 * Handling a message is three calls: the publish step, the append of the reply, the `done` step.
 * When Redis restores older data between the append and the `done` step (a snapshot taken after
 * the run took the message, or a cut AOF), the restored inbox still names the run as the
 * message's owner, so the `done` step was accepted on the restored server: the message was
 * settled while its reply had gone with the lost timeline. The steps now carry the epoch the
 * attempt's output went to (lua/inbox-step-2.lua); the restore rotated the session's epoch, so
 * the `done` step is refused and the run takes the message again as a new attempt.
 *
 * Real Redis (no AOF: the restart loads the snapshot), the real inbox run and log; the only
 * hooks are where the snapshot is taken (right after the run took the message) and where the
 * restore happens (right before the `done` step).
 */
import { describe, expect, it } from 'vitest';
import { InboxRunExecution, runInbox, type InboxLog } from '@holdfast/worker';
import { RedisServer } from '@holdfast/testing';
import { sessionLogFactory, useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';
import { directRunDeps, readEnvelopes, restartAndReconnect } from './worker-harness.js';

const own = useOwnRedisServer({ appendonly: false });
const logs = own.logs;

describe('a Redis restore between a reply and its done step', () => {
  it('runs the message again instead of settling it with its reply lost', async () => {
    const log = await logs.open({ inboundRatePerSession: 0 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const before = await log.info(sessionId);
    const prompt = await log.enqueueInbound(sessionId, { id: 'prompt', data: 'q1' });
    expect(prompt).toMatchObject({ seq: 1, generation: 1 });

    let snapshotTaken = false;
    let restored = false;
    const restoringLog: InboxLog = {
      nextInbound: async (id, round, token) => {
        const next = await log.nextInbound(id, round, token);
        // The snapshot: the run owns the message, nothing is published yet.
        if (!snapshotTaken && next.kind === 'message') {
          snapshotTaken = true;
          await own.server.client().save();
        }
        return next;
      },
      stepInbound: async (id, step) => {
        if (step.kind === 'done' && !restored) {
          restored = true;
          await restartAndReconnect(own.server, log, sessionId);
        }
        return log.stepInbound(id, step);
      },
      appendBatch: (id, messages, options) => log.appendBatch(id, messages, options),
    };
    const attempts: number[] = [];
    const outcome = await runInbox({ sessionId, generation: 1 }, new InboxRunExecution(), {
      ...directRunDeps,
      log: restoringLog,
      handler: async (ctx) => {
        attempts.push(ctx.attempt);
        await ctx.publish(`answer to ${ctx.message.id}`);
      },
    });
    expect(restored).toBe(true);
    expect(outcome).toBe('idle');
    // The first attempt's reply went with the lost timeline; the second one is in the log.
    expect(attempts).toEqual([1, 2]);
    const after = await log.info(sessionId);
    expect(after.epoch).not.toBe(before.epoch);
    const replies = (await readEnvelopes(log, sessionId)).filter((e) => e.$holdfast === 'reply');
    expect(replies).toEqual([
      { $holdfast: 'reply', messageId: 'prompt', attempt: 2, data: 'answer to prompt' },
    ]);
  });

  it('settles the message when the restart lost nothing (a durable Redis keeps the epoch)', async () => {
    const durable = await RedisServer.start({ appendonly: true, appendfsync: 'always' });
    const durableLogs = sessionLogFactory(() => durable);
    try {
      const log = await durableLogs.open({ inboundRatePerSession: 0 });
      const sessionId = uniqueId();
      await log.createSession(sessionId);
      await log.enqueueInbound(sessionId, { id: 'prompt', data: 'q1' });
      let restarted = false;
      const restartingLog: InboxLog = {
        nextInbound: (id, round, token) => log.nextInbound(id, round, token),
        stepInbound: async (id, step) => {
          if (step.kind === 'done' && !restarted) {
            restarted = true;
            await restartAndReconnect(durable, log, sessionId);
          }
          return log.stepInbound(id, step);
        },
        appendBatch: (id, messages, options) => log.appendBatch(id, messages, options),
      };
      const attempts: number[] = [];
      const outcome = await runInbox({ sessionId, generation: 1 }, new InboxRunExecution(), {
        ...directRunDeps,
        log: restartingLog,
        handler: async (ctx) => {
          attempts.push(ctx.attempt);
          await ctx.publish(`answer to ${ctx.message.id}`);
        },
      });
      expect(restarted).toBe(true);
      expect(outcome).toBe('idle');
      // Nothing was lost, so nothing runs twice.
      expect(attempts).toEqual([1]);
      const replies = (await readEnvelopes(log, sessionId)).filter((e) => e.$holdfast === 'reply');
      expect(replies).toHaveLength(1);
    } finally {
      await durableLogs.closeAll();
      await durable.destroy();
    }
  });
});
