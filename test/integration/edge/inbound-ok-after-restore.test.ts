/**
 * An inbound `ok` must never come after the reset that told the client the message's timeline
 * is gone (CI chaos run of 2026-12-07, seed 1821275173: a prompt acknowledged after its
 * session's last reset, never answered, its session never drained).
 *
 * The edge stores the message (one script call), then submits its inbox run (BullMQ, on its
 * own connection), then says `ok`. BullMQ queues commands while Redis is away, so the
 * submission can wait out a Redis restart; if that restart restored older data, the message is
 * gone, the connection has meanwhile read the new epoch and reset its client, and the late `ok`
 * promised a message that no longer exists: the client never resends it, no worker ever sees it.
 *
 * Real Redis (no AOF: the restart loads a snapshot taken before the message), the real session
 * log, inbox and BullMQ queue, and the edge's own `acceptSend`. The connection is the one thing
 * stood in for: the epoch it has told its client, moved to the restored one as its delivery
 * cursor would be once it read the log after the restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type SendReply } from '@holdfast/protocol';
import { InboundQueue } from '@holdfast/inbound-queue';
import { RedisServer } from '@holdfast/testing';
import { acceptSend, type InboundSendContext } from '../../../services/edge/src/inbound-send.js';
import { sessionLogFactory, uniqueId } from '../../helpers/session-log-fixture.js';
import { restartAndReconnect } from '../worker/worker-harness.js';

let server: RedisServer;
const logs = sessionLogFactory(() => server);
const queues: InboundQueue[] = [];

beforeAll(async () => {
  server = await RedisServer.start({ appendonly: false });
});
afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.close()));
  await logs.closeAll();
});
afterAll(() => server.destroy());

/** The connection a send came on, as far as `acceptSend` sees it. */
function connection(sessionId: string, toldEpoch: () => string) {
  return {
    sessionId,
    consumerId: 'default',
    get toldEpoch() {
      return toldEpoch();
    },
    fault: (code: string, message: string) => {
      throw new Error(`unexpected fault ${code}: ${message}`);
    },
  };
}

async function sendOnce(
  context: InboundSendContext,
  sender: ReturnType<typeof connection>,
  id: string,
): Promise<SendReply> {
  let answer: SendReply | undefined;
  await acceptSend(context, sender, { id, data: `prompt ${id}` }, (reply: SendReply) => (answer = reply));
  if (!answer) throw new Error('acceptSend returned without answering');
  return answer;
}

/** A session log and the edge's inbound queue under one fresh key prefix, and a new session. */
async function openSession() {
  const keyPrefix = uniqueId('t');
  const log = await logs.open({ keyPrefix, inboundRatePerSession: 0 });
  const queue = new InboundQueue({ url: server.url, maxRetriesPerRequest: null }, keyPrefix);
  queues.push(queue);
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  return { log, queue, sessionId, epoch: (await log.info(sessionId)).epoch };
}

describe('an inbound message stored in a timeline Redis then lost', () => {
  it('is refused (resend), not acknowledged after the reset; the resend is stored and scheduled', async () => {
    const { log, queue, sessionId, epoch } = await openSession();
    let told = epoch;
    await server.client().save(); // the snapshot the restart will load: an empty inbox

    let restored = false;
    const context: InboundSendContext = {
      log,
      submitInboxRun: async (id, round) => {
        if (!restored) {
          // The submission waits out a restart that loses the message just stored...
          restored = true;
          await restartAndReconnect(server, log, sessionId);
          // ...while the connection reads the log and resets its client into the new epoch.
          told = (await log.info(sessionId)).epoch;
        }
        await queue.submitInboxRun(id, round);
      },
    };
    const sender = connection(sessionId, () => told);

    const first = await sendOnce(context, sender, 'm1');
    expect(restored).toBe(true);
    expect(first).toMatchObject({ ok: false, code: ErrorCode.RedisUnavailable });

    // The client resends (the SDK's outbox does on a retryable refusal): stored this time.
    const resend = await sendOnce(context, sender, 'm1');
    expect(resend).toEqual({ ok: true, id: 'm1', seq: 1, duplicate: false });
    const again = await log.enqueueInbound(sessionId, { id: 'm1', data: 'prompt m1' });
    expect(again).toMatchObject({ seq: 1, duplicate: true, round: 1 });
    expect(await queue.inboxRunExists(sessionId, 1)).toBe(true);
  });

  it('is acknowledged at once when nothing changed under it', async () => {
    const { log, queue, sessionId, epoch: told } = await openSession();
    const context: InboundSendContext = {
      log,
      submitInboxRun: (id, round) => queue.submitInboxRun(id, round),
    };
    const sender = connection(sessionId, () => told);
    expect(await sendOnce(context, sender, 'm1')).toEqual({ ok: true, id: 'm1', seq: 1, duplicate: false });
    expect(await sendOnce(context, sender, 'm1')).toEqual({ ok: true, id: 'm1', seq: 1, duplicate: true });
  });
});
