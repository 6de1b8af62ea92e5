/**
 * Orphaned inbox runs, found and re-submitted.
 *
 * Accepting an inbound message is two writes to Redis: the inbox script stores the message and
 * names the inbox run generation that will handle it (`sched`), then the edge submits the BullMQ job
 * of that generation. Anything that keeps the first and loses the second leaves the inbox
 * holding messages that no job will ever hand to a handler: Redis restored from a snapshot or an AOF cut
 * between the two writes (the data-loss faults), or the job removed after using up its attempts
 * during a long Redis outage. The inbox only names a new generation once the scheduled one has
 * run, so until the session's next `send` (which re-submits the same generation) its prompts
 * wait forever, and if none comes they are never answered.
 *
 * The sweep looks at every session's inbox and re-submits the scheduled generation when
 * messages are pending and its job does not exist. That is safe to do at any time and from any
 * number of workers: the job id is derived from the generation, so a job that exists is not
 * added twice, and a job whose generation is no longer the scheduled one stops at its first
 * step (the inbox fences it, `stale`).
 *
 * An inbox run is only taken for orphaned when a pass finds it missing that an earlier pass already
 * found missing: between the inbox write and the edge's submission the job is missing for a
 * moment, and re-submitting it then (harmless) would be counted and logged as an orphan.
 */
export interface InboxProgress {
  /** Last inbound sequence number assigned. */
  readonly seq: number;
  /** Last one handled. */
  readonly done: number;
  /** Generation of the scheduled inbox run, 0 when none. */
  readonly scheduled: number;
}

export interface OrphanSweepDeps {
  scanSessions(cursor: string): Promise<{ cursor: string; sessionIds: string[] }>;
  /** Undefined when the session has no inbox. */
  inboxProgress(sessionId: string): Promise<InboxProgress | undefined>;
  inboxRunExists(sessionId: string, generation: number): Promise<boolean>;
  submitInboxRun(sessionId: string, generation: number): Promise<void>;
}

export interface OrphanedInboxRun {
  readonly sessionId: string;
  readonly generation: number;
  /** Messages waiting in the inbox when it was found. */
  readonly pending: number;
}

export interface SweepResult {
  /** Inbox runs found missing in this pass and the one before: re-submitted. */
  readonly resubmitted: OrphanedInboxRun[];
  /** Inbox runs found missing for the first time: the next pass re-submits them if still missing. */
  readonly suspects: ReadonlySet<string>;
}

/**
 * One pass over every session. `suspects` are the previous pass's (empty on the first pass);
 * pass the returned ones to the next pass.
 */
export async function resubmitOrphanedInboxRuns(
  deps: OrphanSweepDeps,
  suspects: ReadonlySet<string> = new Set(),
): Promise<SweepResult> {
  const resubmitted: OrphanedInboxRun[] = [];
  const next = new Set<string>();
  let cursor = '0';
  do {
    const page = await deps.scanSessions(cursor);
    for (const sessionId of page.sessionIds) {
      const progress = await deps.inboxProgress(sessionId);
      if (!progress || progress.scheduled === 0 || progress.done >= progress.seq) continue;
      if (await deps.inboxRunExists(sessionId, progress.scheduled)) continue;
      const key = `${sessionId}@${progress.scheduled}`;
      if (!suspects.has(key)) {
        next.add(key);
        continue;
      }
      await deps.submitInboxRun(sessionId, progress.scheduled);
      resubmitted.push({ sessionId, generation: progress.scheduled, pending: progress.seq - progress.done });
    }
    cursor = page.cursor;
  } while (cursor !== '0');
  return { resubmitted, suspects: next };
}
