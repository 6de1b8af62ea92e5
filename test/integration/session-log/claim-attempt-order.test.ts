/**
 * the claim (hf_claim) with the client's own order of attempts (protocol 4): an attempt older than the
 * newest its client instance already claimed with is refused (`superseded`) and changes
 * nothing; other instances, and claims without an attempt, fence as before.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import type { SessionLog } from '@holdfast/session-log';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

const own = useOwnRedisServer();
const logs = own.logs;

async function refusal(promise: Promise<unknown>): Promise<HoldfastError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HoldfastError);
    return error as HoldfastError;
  }
  throw new Error('the claim was accepted');
}

/** The consumer's generation and holder as stored (a renewal with generation 0 only reads). */
async function lease(log: SessionLog, sessionId: string): Promise<number | undefined> {
  return log.renewLease(sessionId, 'phone', 0, 1);
}

describe("claiming a consumer's lease with the client's attempt order", () => {
  it("refuses an instance's older attempt without fencing its newer one", async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);

    const newer = await log.claimLease(sessionId, 'phone', 'conn-b', 10_000, {
      instance: 'tab1',
      attempt: 2,
    });
    expect(newer).toEqual({ generation: 1, previousHolder: undefined });
    const late = await refusal(
      log.claimLease(sessionId, 'phone', 'conn-a', 10_000, { instance: 'tab1', attempt: 1 }),
    );
    expect(late.code).toBe(ErrorCode.Superseded);
    expect(late.details).toEqual({ attempt: 2 });
    expect(await lease(log, sessionId)).toBe(1);
    expect((await log.info(sessionId)).connected).toEqual({ phone: true });

    // The instance's next attempt takes over from its previous one, as any claim does.
    expect(
      await log.claimLease(sessionId, 'phone', 'conn-c', 10_000, { instance: 'tab1', attempt: 3 }),
    ).toEqual({ generation: 2, previousHolder: 'conn-b' });
  });

  it('keeps fencing between instances, and for clients that send no attempt', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);

    await log.claimLease(sessionId, 'phone', 'tab1-a5', 10_000, { instance: 'tab1', attempt: 5 });
    // Another tab's first attempt is not older than anything of its own: it takes over.
    expect(
      await log.claimLease(sessionId, 'phone', 'tab2-a1', 10_000, { instance: 'tab2', attempt: 1 }),
    ).toEqual({ generation: 2, previousHolder: 'tab1-a5' });
    // A protocol 3 client takes over too.
    expect(await log.claimLease(sessionId, 'phone', 'old-client')).toEqual({
      generation: 3,
      previousHolder: 'tab2-a1',
    });
    // tab1's stale attempt is still known as older than tab1's newest, whoever holds the lease.
    expect(
      (await refusal(log.claimLease(sessionId, 'phone', 'tab1-a4', 10_000, { instance: 'tab1', attempt: 4 })))
        .code,
    ).toBe(ErrorCode.Superseded);
    expect(await lease(log, sessionId)).toBe(3);
    // The same attempt number again is not older: accepted (one claim per attempt is the SDK's rule).
    expect(
      (await log.claimLease(sessionId, 'phone', 'tab1-a5b', 10_000, { instance: 'tab1', attempt: 5 }))
        .generation,
    ).toBe(4);
  });

  it('remembers the newest attempt of the 8 most recent instances per consumer', async () => {
    const log = await logs.open();
    const admin = own.server.client();
    const sessionId = uniqueId();
    await log.createSession(sessionId);

    await log.claimLease(sessionId, 'phone', 'first', 10_000, { instance: 'first', attempt: 9 });
    for (let i = 1; i <= 7; i++) {
      await log.claimLease(sessionId, 'phone', `tab${i}`, 10_000, { instance: `tab${i}`, attempt: 1 });
    }
    expect(
      (await refusal(log.claimLease(sessionId, 'phone', 'x', 10_000, { instance: 'first', attempt: 8 })))
        .code,
    ).toBe(ErrorCode.Superseded);
    // A ninth instance pushes the oldest out: its stale attempts fence again, as before protocol 4.
    await log.claimLease(sessionId, 'phone', 'tab8', 10_000, { instance: 'tab8', attempt: 1 });
    expect(
      (await log.claimLease(sessionId, 'phone', 'y', 10_000, { instance: 'first', attempt: 8 }))
        .previousHolder,
    ).toBe('tab8');
    const keys = await admin.keys('*');
    const meta = keys.find((key) => key.includes(sessionId) && key.endsWith('meta'));
    expect(meta).toBeDefined();
    const stored = (await admin.hget(meta!, 'attempts:phone'))!.split(' ');
    expect(stored.length).toBe(16);
    expect(stored.slice(0, 4)).toEqual(['first', '8', 'tab8', '1']);
    await admin.quit();
  });

  it('refuses a malformed attempt before running the script', async () => {
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    for (const attempt of [
      { instance: 'a b', attempt: 1 },
      { instance: 'ok', attempt: 0 },
      { instance: 'ok', attempt: 2 ** 53 },
    ]) {
      expect((await refusal(log.claimLease(sessionId, 'phone', 'c', 10_000, attempt))).code).toBe(
        ErrorCode.InvalidOptions,
      );
    }
    expect(await lease(log, sessionId)).toBe(0);
  });
});
