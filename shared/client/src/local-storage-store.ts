import { isLogPosition, type PositionStore } from './position-store.js';

/** The part of the Web Storage API the store uses (`localStorage`, `sessionStorage`, a fake). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
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
 */
export function localStorageStore(
  storage: StorageLike | undefined = globalLocalStorage(),
  prefix = 'holdfast:',
): PositionStore {
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
  };
}
