import { describe, expect, it } from 'vitest';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { classifyFencedAck, classifyLease } from '@holdfast/session-log';

describe('classifyLease', () => {
  it('reads a renewal against the generation held', () => {
    expect(classifyLease(4, 4)).toBe('held');
    expect(classifyLease(4, 5)).toBe('fenced');
    expect(classifyLease(4, 3)).toBe('rolled_back');
    expect(classifyLease(4, 0)).toBe('rolled_back');
    expect(classifyLease(4, undefined)).toBe('session_gone');
  });

  it('reads a fenced ack the same way', () => {
    const fenced = (generation: unknown): HoldfastError =>
      new HoldfastError(ErrorCode.Replaced, 'replaced', { details: { generation } });
    expect(classifyFencedAck(4, fenced(5))).toBe('fenced');
    expect(classifyFencedAck(4, fenced(2))).toBe('rolled_back');
    expect(classifyFencedAck(4, fenced(undefined))).toBe('fenced');
  });
});
