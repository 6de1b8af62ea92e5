import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InboxRunExecution, runInbox } from '@holdfast/worker';
import { RedisServer, waitFor } from '@holdfast/testing';
import { sessionLogFactory, uniqueId } from '../../helpers/session-log-fixture.js';
import { inboxSettled, readEnvelopes } from './worker-harness.js';

let server: RedisServer;
let redis: Redis;
const logs = sessionLogFactory(() => server);

beforeAll(async () => {
  server = await RedisServer.start();
  redis = server.client();
});
afterEach(() => logs.closeAll());
afterAll(() => server.destroy());

// Found by the chaos run with completions: a reply refused with `session_completed` counted as a
// handler failure, the next attempt's `attempt_aborted` append threw out of the inbox run, and the
// job was retried (and its inbox swept up again) for as long as the completed session lived.
describe('worker inbox run of a session that completes mid-reply', () => {
  it('leaves the message and every later one unanswered: no retry, no dead letter, the inbox settles', async () => {
    const log = await logs.open({ inboundRatePerSession: 0 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const first = await log.enqueueInbound(sessionId, { id: 'm1', data: 'a' });
    await log.enqueueInbound(sessionId, { id: 'm2', data: 'b' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const calls: string[] = [];
    const warnings: string[] = [];
    const letters: unknown[] = [];
    const outcome = runInbox({ sessionId, generation: first.generation }, new InboxRunExecution(), {
      log,
      deadLetters: { record: (letter) => Promise.resolve(letters.push(letter)) },
      retry: { maxAttempts: 3, baseMs: 1, maxMs: 1 },
      report: (level, msg) => void (level === 'warn' && warnings.push(msg)),
      handler: async (ctx) => {
        calls.push(`${ctx.message.id}#${ctx.attempt}`);
        await ctx.publish('first part');
        await released;
        await ctx.publish('second part'); // refused: the session completed meanwhile
      },
    });
    await waitFor(async () => (await readEnvelopes(log, sessionId)).length === 1, {
      what: "the handler's first part",
    });
    const completed = await log.completeSession(sessionId);
    release();

    expect(await outcome).toBe('idle');
    expect(calls).toEqual(['m1#1']);
    expect(warnings).toEqual([]);
    expect(letters).toEqual([]);
    expect(await inboxSettled(redis, log, sessionId)).toBe(true);
    expect(completed.finalOffset).toBe(1);
    expect(await readEnvelopes(log, sessionId)).toEqual([
      { $holdfast: 'reply', messageId: 'm1', attempt: 1, data: 'first part' },
    ]);
  });

  it('an inbox run that starts after the completion runs no handler past the first refused reply', async () => {
    const log = await logs.open({ inboundRatePerSession: 0 });
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    const first = await log.enqueueInbound(sessionId, { id: 'm1', data: 'a' });
    await log.enqueueInbound(sessionId, { id: 'm2', data: 'b' });
    await log.enqueueInbound(sessionId, { id: 'm3', data: 'c' });
    await log.completeSession(sessionId);
    const calls: string[] = [];
    const outcome = await runInbox({ sessionId, generation: first.generation }, new InboxRunExecution(), {
      log,
      deadLetters: { record: () => Promise.reject(new Error('no dead letter expected')) },
      retry: { maxAttempts: 3, baseMs: 1, maxMs: 1 },
      report: () => undefined,
      handler: async (ctx) => {
        calls.push(ctx.message.id);
        await ctx.publish('reply');
      },
    });
    expect(outcome).toBe('idle');
    expect(calls).toEqual(['m1']);
    expect(await inboxSettled(redis, log, sessionId)).toBe(true);
  });
});
