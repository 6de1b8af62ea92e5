import { isMessageId, isOffset, type LogPosition } from '@holdfast/protocol';
import { ClientErrorCode, HoldfastClientError } from './client-error.js';
import { describeError } from './describe-error.js';

/** A `send` the edge has not yet accepted, as the outbox keeps it (and a store persists it). */
export interface OutboxEntry {
  readonly id: string;
  readonly data: unknown;
}

/**
 * Where a session keeps the position its app has handled, so a restarted client resumes where
 * it stopped. Two methods, sync or async; a store may serve many sessions.
 *
 * Optionally also the outbox (sends not yet accepted by an edge), so a restarted client sends
 * them again: `loadOutbox` once when the session starts, `saveOutbox` with the whole outbox (in
 * send order) after every change. A store without them keeps the outbox in memory only.
 */
export interface PositionStore {
  load(sessionId: string): Promise<LogPosition | undefined> | LogPosition | undefined;
  save(sessionId: string, position: LogPosition): void | Promise<void>;
  loadOutbox?(
    sessionId: string,
  ): Promise<readonly OutboxEntry[] | undefined> | readonly OutboxEntry[] | undefined;
  saveOutbox?(sessionId: string, entries: readonly OutboxEntry[]): void | Promise<void>;
}

/** A store whose methods answer at once (no promises): the built-in ones. */
export interface SyncPositionStore extends PositionStore {
  load(sessionId: string): LogPosition | undefined;
  save(sessionId: string, position: LogPosition): void;
  loadOutbox(sessionId: string): readonly OutboxEntry[] | undefined;
  saveOutbox(sessionId: string, entries: readonly OutboxEntry[]): void;
}

/**
 * A store in memory: positions and outboxes survive reconnects, not a restart of the page or
 * process (but a second session object given the same store continues both).
 */
export function memoryStore(): SyncPositionStore {
  const positions = new Map<string, LogPosition>();
  const outboxes = new Map<string, readonly OutboxEntry[]>();
  return {
    load: (sessionId) => positions.get(sessionId),
    save: (sessionId, position) => {
      positions.set(sessionId, { epoch: position.epoch, offset: position.offset });
    },
    loadOutbox: (sessionId) => outboxes.get(sessionId),
    saveOutbox: (sessionId, entries) => {
      if (entries.length === 0) outboxes.delete(sessionId);
      else
        outboxes.set(
          sessionId,
          entries.map(({ id, data }) => ({ id, data })),
        );
    },
  };
}

/** True for `{ epoch: non-empty string, offset: non-negative safe integer }`. */
export function isLogPosition(value: unknown): value is LogPosition {
  if (typeof value !== 'object' || value === null) return false;
  const { epoch, offset } = value as Record<string, unknown>;
  return typeof epoch === 'string' && epoch.length > 0 && isOffset(offset);
}

/** True for `{ id: message id, data: anything but undefined }`. */
export function isOutboxEntry(value: unknown): value is OutboxEntry {
  if (typeof value !== 'object' || value === null) return false;
  const { id, data } = value as Record<string, unknown>;
  return isMessageId(id) && data !== undefined;
}

/**
 * The stored position of `sessionId`, checked: a store that fails or returns something that is
 * not a position is reported through `onError` and counts as nothing stored.
 */
export async function loadStoredPosition(
  store: PositionStore,
  sessionId: string,
  onError: (error: HoldfastClientError) => void,
): Promise<LogPosition | undefined> {
  try {
    const loaded: unknown = await store.load(sessionId);
    if (loaded === undefined || loaded === null) return undefined;
    if (!isLogPosition(loaded)) {
      throw new TypeError(`the store returned ${JSON.stringify(loaded)}, not { epoch, offset }`);
    }
    return loaded;
  } catch (error) {
    onError(storeError('load', error));
    return undefined;
  }
}

/** A store operation failed: `store_failed`, the cause kept. */
export function storeError(operation: 'load' | 'save', error: unknown): HoldfastClientError {
  return new HoldfastClientError(
    ClientErrorCode.StoreFailed,
    `the position store failed to ${operation}: ${describeError(error)}`,
    { cause: error },
  );
}
