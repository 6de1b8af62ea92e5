import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AckBatcher } from '../../shared/client/src/ack-batcher.js';

describe('AckBatcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('flushes after everyMessages handled messages', () => {
    const flush = vi.fn();
    const batcher = new AckBatcher(flush, 3, 100);
    batcher.noteHandled();
    batcher.noteHandled();
    expect(flush).not.toHaveBeenCalled();
    batcher.noteHandled();
    expect(flush).toHaveBeenCalledTimes(1);
    batcher.noteHandled(5);
    expect(flush).toHaveBeenCalledTimes(2);
  });

  it('flushes everyMs after the first unacknowledged message, once', () => {
    const flush = vi.fn();
    const batcher = new AckBatcher(flush, 50, 100);
    batcher.noteHandled();
    vi.advanceTimersByTime(60);
    batcher.noteHandled(); // does not restart the timer
    vi.advanceTimersByTime(40);
    expect(flush).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(flush).toHaveBeenCalledTimes(1);
  });

  it('acks at least every half flow window', () => {
    const flush = vi.fn();
    const batcher = new AckBatcher(flush, 50, 100);
    batcher.setWindow(10);
    for (let i = 0; i < 5; i++) batcher.noteHandled();
    expect(flush).toHaveBeenCalledTimes(1);
    batcher.setWindow(1);
    batcher.noteHandled();
    expect(flush).toHaveBeenCalledTimes(2);
  });

  it('does nothing once stopped', () => {
    const flush = vi.fn();
    const batcher = new AckBatcher(flush, 1, 100);
    batcher.noteHandled();
    batcher.stop();
    batcher.noteHandled();
    batcher.flushNow();
    vi.advanceTimersByTime(1000);
    expect(flush).toHaveBeenCalledTimes(1);
  });

  it('holds acks for retryAfterMs after a rate_limited fault, then flushes once', () => {
    const flush = vi.fn();
    const batcher = new AckBatcher(flush, 1, 100);
    batcher.holdFor(500);
    batcher.noteHandled();
    batcher.noteHandled();
    vi.advanceTimersByTime(499);
    expect(flush).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(flush).toHaveBeenCalledTimes(1);
    batcher.noteHandled();
    expect(flush).toHaveBeenCalledTimes(2);
  });
});
