import { isOffset, type LogPosition } from '@holdfast/protocol';

/**
 * Where a session keeps the position its app has handled, so a restarted client resumes where
 * it stopped. Two methods, sync or async; a store may serve many sessions.
 */
export interface PositionStore {
  load(sessionId: string): Promise<LogPosition | undefined> | LogPosition | undefined;
  save(sessionId: string, position: LogPosition): void | Promise<void>;
}

/** A store in memory: positions survive reconnects, not a restart of the page or process. */
export function memoryStore(): PositionStore {
  const positions = new Map<string, LogPosition>();
  return {
    load: (sessionId) => positions.get(sessionId),
    save: (sessionId, position) => {
      positions.set(sessionId, { epoch: position.epoch, offset: position.offset });
    },
  };
}

/** True for `{ epoch: non-empty string, offset: non-negative safe integer }`. */
export function isLogPosition(value: unknown): value is LogPosition {
  if (typeof value !== 'object' || value === null) return false;
  const { epoch, offset } = value as Record<string, unknown>;
  return typeof epoch === 'string' && epoch.length > 0 && isOffset(offset);
}
