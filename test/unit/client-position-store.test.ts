import { describe, expect, it, vi } from 'vitest';
import { localStorageStore, memoryStore, type StorageLike } from '@holdfast/client';
import { PositionSaver } from '../../shared/client/src/position-saver.js';
import { initialPosition, START_EPOCH } from '../../shared/client/src/start-position.js';

/** Web Storage as browsers have it, in a Map. */
class FakeStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
}

describe('memoryStore', () => {
  it('keeps one position per session, as a copy', () => {
    const store = memoryStore();
    const position = { epoch: 'E', offset: 3 };
    store.save('a', position);
    expect(store.load('a')).toEqual(position);
    expect(store.load('a')).not.toBe(position);
    expect(store.load('b')).toBeUndefined();
  });
});

describe('localStorageStore', () => {
  it('saves under prefix + sessionId as JSON, and a second store over the same storage loads it', () => {
    const storage = new FakeStorage();
    localStorageStore(storage).save('s1', { epoch: 'Qx1', offset: 42 });
    expect(storage.items.get('holdfast:s1')).toBe('{"epoch":"Qx1","offset":42}');
    expect(localStorageStore(storage).load('s1')).toEqual({ epoch: 'Qx1', offset: 42 });
    expect(localStorageStore(storage).load('s2')).toBeUndefined();
  });

  it('honours the prefix', () => {
    const storage = new FakeStorage();
    const store = localStorageStore(storage, 'app1/');
    store.save('s1', { epoch: 'E', offset: 1 });
    expect([...storage.items.keys()]).toEqual(['app1/s1']);
    expect(localStorageStore(storage).load('s1')).toBeUndefined();
  });

  it.each([
    ['not JSON', '{epoch'],
    ['not an object', '42'],
    ['no epoch', '{"offset":3}'],
    ['a negative offset', '{"epoch":"E","offset":-1}'],
    ['a fractional offset', '{"epoch":"E","offset":1.5}'],
    ['an empty epoch', '{"epoch":"","offset":1}'],
  ])('loads an entry that is %s as no position', (_what, text) => {
    const storage = new FakeStorage();
    storage.setItem('holdfast:s', text);
    expect(localStorageStore(storage).load('s')).toBeUndefined();
  });

  it('uses globalThis.localStorage by default, and says what to do without one', () => {
    const storage = new FakeStorage();
    vi.stubGlobal('localStorage', storage);
    try {
      localStorageStore().save('s', { epoch: 'E', offset: 9 });
      expect(storage.items.get('holdfast:s')).toBe('{"epoch":"E","offset":9}');
    } finally {
      vi.unstubAllGlobals();
    }
    expect(() => localStorageStore()).toThrow(/pass a Storage as its first argument, or use memoryStore/);
  });
});

describe('PositionSaver', () => {
  it('never lets an older position overwrite a newer one, and coalesces while a save is slow', async () => {
    const writes: number[] = [];
    const releases: Array<() => void> = [];
    const store = {
      load: () => undefined,
      save: (_sessionId: string, position: { offset: number }) =>
        new Promise<void>((resolve) => {
          writes.push(position.offset);
          releases.push(resolve);
        }),
    };
    const saver = new PositionSaver(store, 's', () => undefined);
    saver.save({ epoch: 'E', offset: 1 });
    saver.save({ epoch: 'E', offset: 2 });
    saver.save({ epoch: 'E', offset: 3 });
    expect(writes).toEqual([1]);
    releases.shift()!();
    await vi.waitFor(() => expect(writes).toEqual([1, 3]));
    const flushed = saver.flush();
    releases.shift()!();
    await flushed;
    expect(writes).toEqual([1, 3]);
  });

  it('reports a failing store and goes on', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const saved: number[] = [];
    const saver = new PositionSaver(
      {
        load: () => undefined,
        save: (_s, position) => {
          if (fail) throw new Error('quota exceeded');
          saved.push(position.offset);
        },
      },
      's',
      (error) => errors.push(error),
    );
    saver.save({ epoch: 'E', offset: 1 });
    await saver.flush();
    fail = false;
    saver.save({ epoch: 'E', offset: 2 });
    await saver.flush();
    expect(errors).toHaveLength(1);
    expect(saved).toEqual([2]);
  });
});

describe('initialPosition', () => {
  const stored = { epoch: 'E', offset: 30 };
  it("'start' ignores the stored position and asks for a rebuild", () => {
    expect(initialPosition('start', stored)).toEqual({ epoch: START_EPOCH, offset: 0 });
  });
  it('a number resumes after that offset of the stored epoch, or rebuilds without one', () => {
    expect(initialPosition(10, stored)).toEqual({ epoch: 'E', offset: 10 });
    expect(initialPosition(10, undefined)).toEqual({ epoch: START_EPOCH, offset: 10 });
  });
  it('nothing resumes after the stored position, or lets the edge start after the consumer ack', () => {
    expect(initialPosition(undefined, stored)).toBe(stored);
    expect(initialPosition(undefined, undefined)).toBeUndefined();
  });
  it('the start sentinel can never be a real epoch (base64url)', () => {
    expect(START_EPOCH).not.toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
