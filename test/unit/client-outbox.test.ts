import { describe, expect, it } from 'vitest';
import { createReplyAssembler, localStorageStore, memoryStore, type StorageLike } from '@holdfast/client';
import { newMessageId } from '../../shared/client/src/outbox.js';

class FakeStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

const at = { epoch: 'E', offset: 1 };

describe('outbox stores', () => {
  it('memoryStore keeps a copy of the outbox per session and forgets an empty one', () => {
    const store = memoryStore();
    const entries = [{ id: 'a', data: { n: 1 } }];
    store.saveOutbox!('s', entries);
    expect(store.loadOutbox!('s')).toEqual(entries);
    expect(store.loadOutbox!('s')).not.toBe(entries);
    store.saveOutbox!('s', []);
    expect(store.loadOutbox!('s')).toBeUndefined();
  });

  it('localStorageStore keeps it under prefix + sessionId + ":outbox" and skips malformed entries', () => {
    const storage = new FakeStorage();
    localStorageStore(storage).saveOutbox!('s1', [{ id: 'a', data: 1 }]);
    expect(storage.items.get('holdfast:s1:outbox')).toBe('[{"id":"a","data":1}]');
    storage.setItem('holdfast:s1:outbox', '[{"id":"a","data":1},{"id":"bad id","data":2},{"id":"c"}]');
    expect(localStorageStore(storage).loadOutbox!('s1')).toEqual([{ id: 'a', data: 1 }]);
    storage.setItem('holdfast:s2:outbox', 'not json');
    expect(localStorageStore(storage).loadOutbox!('s2')).toBeUndefined();
    localStorageStore(storage).saveOutbox!('s1', []);
    expect(storage.items.has('holdfast:s1:outbox')).toBe(false);
  });

  it('generates message ids the edge accepts', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newMessageId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
  });
});

describe('createReplyAssembler', () => {
  type Part = { type: 'delta' | 'final'; text: string };
  const part = (type: Part['type'], text: string): Part => ({ type, text });

  it('discards an aborted attempt and completes with the next one', async () => {
    const assembler = createReplyAssembler<Part>({ isFinal: (p) => p.type === 'final' });
    const settled = assembler.settled('m');
    assembler.reply({ messageId: 'm', attempt: 1, data: part('delta', 'a'), ...at });
    expect(assembler.get('m')).toMatchObject({ attempt: 1, parts: [part('delta', 'a')], complete: false });
    assembler.attemptAborted({ messageId: 'm', attempt: 1, ...at });
    expect(assembler.get('m')).toMatchObject({ attempt: 2, parts: [], abortedAttempts: [1] });
    assembler.reply({ messageId: 'm', attempt: 1, data: part('delta', 'late'), ...at }); // ignored
    assembler.reply({ messageId: 'm', attempt: 2, data: part('delta', 'b'), ...at });
    assembler.reply({ messageId: 'm', attempt: 2, data: part('final', 'b'), ...at });
    expect(await settled).toEqual({
      messageId: 'm',
      attempt: 2,
      parts: [part('delta', 'b'), part('final', 'b')],
      complete: true,
      abortedAttempts: [1],
    });
  });

  it('a reply of a higher attempt discards the earlier one without a marker; an abort reopens a complete reply', () => {
    const assembler = createReplyAssembler<Part>({ isFinal: (p) => p.type === 'final' });
    assembler.reply({ messageId: 'm', attempt: 1, data: part('final', 'x'), ...at });
    expect(assembler.get('m')?.complete).toBe(true);
    assembler.attemptAborted({ messageId: 'm', attempt: 1, ...at });
    expect(assembler.get('m')).toMatchObject({ complete: false, parts: [], attempt: 2 });
    assembler.reply({ messageId: 'm', attempt: 3, data: part('delta', 'y'), ...at });
    expect(assembler.get('m')).toMatchObject({
      attempt: 3,
      parts: [part('delta', 'y')],
      abortedAttempts: [1, 2],
    });
  });

  it('settles on inbound_error, keeps messages apart and clears', async () => {
    const changes: string[] = [];
    const assembler = createReplyAssembler<Part>({
      isFinal: (p) => p.type === 'final',
      onChange: (r) => changes.push(`${r.messageId}:${r.parts.length}:${r.error ? 'error' : ''}`),
    });
    assembler.reply({ messageId: 'a', attempt: 1, data: part('delta', 'a'), ...at });
    assembler.inboundError({ messageId: 'b', code: 'handler_failed', message: 'boom', attempts: 3, ...at });
    expect((await assembler.settled('b')).error).toEqual({
      code: 'handler_failed',
      message: 'boom',
      attempts: 3,
    });
    expect(assembler.all().map((r) => r.messageId)).toEqual(['a', 'b']);
    expect(changes).toEqual(['a:1:', 'b:0:error']);
    assembler.clear();
    expect(assembler.all()).toEqual([]);
  });
});
