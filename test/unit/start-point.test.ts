import { describe, expect, it } from 'vitest';
import { decideAfterRead, decideStart } from '../../services/edge/src/start-point.js';

const log = { epoch: 'E', head: 100, firstAvailable: 41 };

describe('decideStart', () => {
  it('continues right after a valid position', () => {
    expect(decideStart(log, { epoch: 'E', offset: 60 }, 10)).toEqual({ startOffset: 61, reset: undefined });
    expect(decideStart(log, { epoch: 'E', offset: 100 }, 10)).toEqual({ startOffset: 101, reset: undefined });
    expect(decideStart(log, { epoch: 'E', offset: 40 }, 10)).toEqual({ startOffset: 41, reset: undefined });
  });

  it('resets a position of another epoch to the first retained offset', () => {
    expect(decideStart(log, { epoch: 'OLD', offset: 60 }, 10)).toEqual({
      startOffset: 41,
      reset: { reason: 'epoch_changed', oldEpoch: 'OLD', newEpoch: 'E', firstAvailable: 41, resumeFrom: 41 },
    });
  });

  it('resets a position older than retention', () => {
    expect(decideStart(log, { epoch: 'E', offset: 39 }, 10).reset).toMatchObject({
      reason: 'trimmed',
      resumeFrom: 41,
    });
  });

  it('resets a position beyond the head', () => {
    expect(decideStart(log, { epoch: 'E', offset: 101 }, 10).reset).toMatchObject({
      reason: 'ahead_of_head',
    });
  });

  it('starts after the stored ack without a position', () => {
    expect(decideStart(log, undefined, 70)).toEqual({ startOffset: 71, reset: undefined });
    expect(decideStart(log, undefined, 100)).toEqual({ startOffset: 101, reset: undefined });
  });

  it('tells a consumer whose stored ack was trimmed, but not one that never acked', () => {
    expect(decideStart(log, undefined, 20).reset).toMatchObject({ reason: 'trimmed', oldEpoch: 'E' });
    expect(decideStart(log, undefined, 0)).toEqual({ startOffset: 41, reset: undefined });
  });

  it('starts from the oldest message when asked, with a reset that names no old epoch, whatever was acked', () => {
    const fromOldest = {
      startOffset: 41,
      reset: { reason: 'epoch_changed', oldEpoch: null, newEpoch: 'E', firstAvailable: 41, resumeFrom: 41 },
    };
    expect(decideStart(log, 'oldest', 0)).toEqual(fromOldest);
    expect(decideStart(log, 'oldest', 90)).toEqual(fromOldest);
  });

  it('starts an empty log at 1', () => {
    expect(decideStart({ epoch: 'E', head: 0, firstAvailable: 1 }, undefined, 0)).toEqual({
      startOffset: 1,
      reset: undefined,
    });
    expect(
      decideStart({ epoch: 'E', head: 0, firstAvailable: 1 }, { epoch: 'E', offset: 0 }, 0).startOffset,
    ).toBe(1);
  });
});

describe('decideAfterRead', () => {
  const read = { epoch: 'E', head: 100, firstAvailable: 41, trimmed: false };

  it('goes on in the same epoch when nothing was trimmed', () => {
    expect(decideAfterRead({ epoch: 'E' }, read)).toBeUndefined();
  });

  it('resets to the first retained offset of a new epoch', () => {
    expect(decideAfterRead({ epoch: 'OLD' }, read)).toEqual({
      reason: 'epoch_changed',
      oldEpoch: 'OLD',
      newEpoch: 'E',
      firstAvailable: 41,
      resumeFrom: 41,
    });
  });

  it('resets when the offset read from was trimmed away', () => {
    expect(decideAfterRead({ epoch: 'E' }, { ...read, trimmed: true })).toEqual({
      reason: 'trimmed',
      oldEpoch: 'E',
      newEpoch: 'E',
      firstAvailable: 41,
      resumeFrom: 41,
    });
  });

  it('builds the same reset as decideStart for the same case', () => {
    expect(decideAfterRead({ epoch: 'OLD' }, read)).toEqual(
      decideStart(read, { epoch: 'OLD', offset: 60 }, 0).reset,
    );
  });
});
