import type { LiveSubscriptions, SessionLog } from '@holdfast/session-log';

export interface FollowedMessage {
  readonly offset: number;
  readonly epoch: string;
  readonly data: unknown;
}

export interface FollowHandlers {
  readonly onMessage: (message: FollowedMessage) => void;
  /** Something the reader should know about its view of the log (a gap, an epoch change). */
  readonly onNotice: (text: string) => void;
}

/** Why following stopped. A session that ends while followed fails the read (session_ended). */
export type FollowEnd = 'completed' | 'count' | 'interrupted';

/** Pub/sub is a hint: without one, re-read this often anyway (a missed notification costs this much). */
const BACKSTOP_READ_MS = 2000;
const PAGE = 500;

/**
 * Follow a session's log live, the way an edge does: subscribe to its live channel first, then
 * read the stream (the truth) from the position on, and read again whenever a notification
 * (or the backstop timer) says something may have changed. Stops once the completed session's
 * final message was passed on, after `count` messages, or when `signal` aborts.
 */
export async function followLog(options: {
  readonly log: SessionLog;
  readonly live: LiveSubscriptions;
  readonly sessionId: string;
  /** First offset to pass on; undefined: only messages written from now on. */
  readonly from: number | undefined;
  readonly count: number | undefined;
  readonly signal: AbortSignal;
  readonly handlers: FollowHandlers;
}): Promise<FollowEnd> {
  const { log, sessionId, signal, handlers } = options;
  let changed = true;
  let wake: () => void = () => undefined;
  const unsubscribe = await options.live.subscribe(log.keys(sessionId).live, () => {
    changed = true;
    wake();
  });
  try {
    let next = options.from ?? (await log.info(sessionId)).head + 1;
    let epoch: string | undefined;
    let passed = 0;
    while (!signal.aborted) {
      changed = false;
      const page = await log.read(sessionId, { from: next, limit: PAGE });
      if (epoch !== undefined && page.epoch !== epoch) {
        handlers.onNotice(
          `epoch changed (${epoch} -> ${page.epoch}): Redis lost writes, offsets after ${page.head} may repeat with new contents`,
        );
        next = Math.min(next, page.head + 1);
      }
      epoch = page.epoch;
      if (page.trimmed) {
        handlers.onNotice(`messages ${next}-${page.firstAvailable - 1} are no longer retained`);
      }
      for (const entry of page.entries) {
        handlers.onMessage({ offset: entry.offset, epoch: page.epoch, data: entry.data });
        next = entry.offset + 1;
        passed += 1;
        if (options.count !== undefined && passed >= options.count) return 'count';
      }
      if (page.finalOffset !== undefined && next > page.finalOffset) return 'completed';
      if (page.entries.length > 0 || changed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, BACKSTOP_READ_MS);
        signal.addEventListener('abort', done, { once: true });
        wake = done;
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wake = () => undefined;
          resolve();
        }
      });
    }
    return 'interrupted';
  } finally {
    await unsubscribe();
  }
}
