import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Emitter } from '../../shared/client/src/emitter.js';
import { DeliveryQueue } from '../../shared/client/src/delivery-queue.js';

interface TestEvents {
  tick: (n: number) => void;
  work: (n: number) => void | Promise<void>;
}

class TestEmitter extends Emitter<TestEvents> {
  fire(n: number): void {
    this.emit('tick', n);
  }
  run(n: number): Promise<void> {
    return this.emitInOrder('work', n);
  }
}

describe('Emitter', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('calls listeners in order of registration; on() returns an unsubscribe', () => {
    const emitter = new TestEmitter();
    const seen: string[] = [];
    const off = emitter.on('tick', (n) => void seen.push(`a${n}`));
    emitter.on('tick', (n) => void seen.push(`b${n}`));
    emitter.fire(1);
    off();
    emitter.fire(2);
    expect(seen).toEqual(['a1', 'b1', 'b2']);
    expect(emitter.listenerCount('tick')).toBe(1);
  });

  it('a throwing listener does not stop the others; its error is rethrown asynchronously', () => {
    const emitter = new TestEmitter();
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw new Error('listener bug');
    });
    emitter.on('tick', (n) => void seen.push(n));
    emitter.fire(7);
    expect(seen).toEqual([7]);
    expect(() => vi.runAllTimers()).toThrow('listener bug');
  });

  it('emitInOrder awaits each listener before the next, and rejects with the first failure', async () => {
    vi.useRealTimers();
    const emitter = new TestEmitter();
    const seen: string[] = [];
    emitter.on('work', async (n) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(`slow${n}`);
    });
    emitter.on('work', (n) => {
      seen.push(`fast${n}`);
      if (n === 2) throw new Error('second failed');
    });
    await emitter.run(1);
    await expect(emitter.run(2)).rejects.toThrow('second failed');
    expect(seen).toEqual(['slow1', 'fast1', 'slow2', 'fast2']);
  });
});

describe('DeliveryQueue', () => {
  it('runs items one at a time in order; clear() drops what has not started', async () => {
    const seen: string[] = [];
    let release: (() => void) | undefined;
    const queue = new DeliveryQueue<number>(async (n) => {
      seen.push(`start${n}`);
      if (n === 1) await new Promise<void>((resolve) => (release = resolve));
      seen.push(`end${n}`);
    });
    queue.push([1, 2, 3]);
    expect(seen).toEqual(['start1']);
    queue.clear();
    queue.push([4]);
    release!();
    await queue.idle();
    expect(seen).toEqual(['start1', 'end1', 'start4', 'end4']);
  });

  it('keeps working after an empty push and after idle periods', async () => {
    const seen: number[] = [];
    const queue = new DeliveryQueue<number>(async (n) => void seen.push(n));
    queue.push([]);
    await queue.idle();
    queue.push([1]);
    await queue.idle();
    queue.push([2, 3]);
    await queue.idle();
    expect(seen).toEqual([1, 2, 3]);
  });
});
