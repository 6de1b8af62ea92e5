import { isLogPosition, isOutboxEntry, type OutboxEntry, type SyncPositionStore } from './position-store.js';

/** The part of the Web Storage API the store uses (`localStorage`, `sessionStorage`, a fake). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  /** Used to drop an emptied outbox; without it an empty outbox is stored as `[]`. */
  removeItem?(key: string): void;
}

function globalLocalStorage(): StorageLike | undefined {
  try {
    return (globalThis as { localStorage?: StorageLike }).localStorage;
  } catch {
    return undefined; // reading localStorage throws where storage is disabled (sandboxed frames)
  }
}

/**
 * A store in Web Storage, for browsers: the position survives a reload, so the page resumes
 * where it stopped. One key per session, `${prefix}${sessionId}`, holding `{"epoch","offset"}`
 * as JSON. An entry that is missing, not JSON or not a position loads as no position.
 *
 * The outbox (sends not yet accepted) goes under `${prefix}${sessionId}:outbox` as a JSON array
 * of `{ id, data }` (removed when empty), so a reloaded page sends them again. Entries that are
 * not `{ id, data }` are skipped.
 */
export function localStorageStore(
  storage: StorageLike | undefined = globalLocalStorage(),
  prefix = 'holdfast:',
): SyncPositionStore {
  if (!storage) {
    throw new TypeError(
      'localStorageStore: no Web Storage here (globalThis.localStorage is missing); pass a Storage as its first argument, or use memoryStore()',
    );
  }
  return {
    load(sessionId) {
      const text = storage.getItem(prefix + sessionId);
      if (text === null) return undefined;
      try {
        const value: unknown = JSON.parse(text);
        return isLogPosition(value) ? { epoch: value.epoch, offset: value.offset } : undefined;
      } catch {
        return undefined;
      }
    },
    save(sessionId, position) {
      storage.setItem(prefix + sessionId, JSON.stringify({ epoch: position.epoch, offset: position.offset }));
    },
    loadOutbox(sessionId) {
      const text = storage.getItem(`${prefix}${sessionId}:outbox`);
      if (text === null) return undefined;
      try {
        const value: unknown = JSON.parse(text);
        return Array.isArray(value) ? value.filter(isOutboxEntry) : undefined;
      } catch {
        return undefined;
      }
    },
    saveOutbox(sessionId, entries: readonly OutboxEntry[]) {
      const key = `${prefix}${sessionId}:outbox`;
      if (entries.length === 0 && storage.removeItem) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(entries.map(({ id, data }) => ({ id, data }))));
    },
  };
}
