import { describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import {
  isSlotMigrating,
  retryWhileSlotMigrates,
} from '../../shared/session-log/src/slot-migration-retry.js';

const tryAgain = () => new Error('TRYAGAIN Multiple keys request during rehashing of slot');
const gaveUp = () =>
  new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 7855 127.0.0.1:1');

describe('retryWhileSlotMigrates', () => {
  it('recognises TRYAGAIN and ioredis giving up on redirections, nothing else', () => {
    expect(isSlotMigrating(tryAgain())).toBe(true);
    expect(isSlotMigrating(gaveUp())).toBe(true);
    expect(isSlotMigrating(new Error('Connection is closed.'))).toBe(false);
    // A closed connection also counts towards ioredis's limit, but that call may have run.
    expect(
      isSlotMigrating(new Error('Too many Cluster redirections. Last error: Error: Connection is closed.')),
    ).toBe(false);
    expect(isSlotMigrating('TRYAGAIN')).toBe(false);
  });

  it('sends the call again until it succeeds, counting each retry', async () => {
    let calls = 0;
    let retries = 0;
    const result = await retryWhileSlotMigrates(
      async () => {
        calls += 1;
        if (calls < 3) throw calls === 1 ? tryAgain() : gaveUp();
        return 'ok';
      },
      10_000,
      () => void (retries += 1),
    );
    expect(result).toBe('ok');
    expect([calls, retries]).toEqual([3, 2]);
  });

  it('passes any other failure through at once', async () => {
    let calls = 0;
    const failure = new Error('Connection is closed.');
    const error = await retryWhileSlotMigrates(async () => {
      calls += 1;
      throw failure;
    }, 10_000).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect(calls).toBe(1);
  });

  it('past its budget fails with a retryable error naming the option', async () => {
    const error = await retryWhileSlotMigrates(async () => {
      throw tryAgain();
    }, 60).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HoldfastError);
    expect((error as HoldfastError).code).toBe(ErrorCode.RedisUnavailable);
    expect((error as HoldfastError).retryable).toBe(true);
    expect((error as HoldfastError).message).toMatch(/slotMigrationRetryMs/);
  });
});
