/**
 * The message ids worker output is written with. They are derived from the inbound sequence
 * number, the attempt, the writing run and the position within the attempt, so a publish
 * retried after a timeout is deduplicated by the session log (within its dedupe window)
 * instead of written twice, while a new attempt writes fresh entries. The envelopes themselves
 * are part of the protocol (@holdfast/protocol), since clients read them.
 *
 * Why the run's token: (sequence number, attempt) is not unique once Redis lost data. The
 * inbox's numbers go back with a restore, and a run of the lost timeline can still land a
 * write on the restored data (it passed its publish step before the loss; its append waited
 * for the reconnection). The message accepted next gets the lost one's number; with ids from
 * (seq, attempt) alone, its replies were taken for resends of that stray write and never
 * written, and it was marked done: acknowledged, never answered. A run retries only its own
 * writes, so its token keeps the dedupe that matters and makes two runs' ids differ.
 */

/** Id of the `index`-th entry (0-based) published by attempt `attempt` of inbound message `seq`, written by run `runToken`. */
export function replyId(seq: number, attempt: number, index: number, runToken: string): string {
  return `in${seq}.a${attempt}.r${runToken}.i${index}`;
}

/**
 * Id of the marker saying attempt `attempt` of inbound message `seq` was aborted, written by
 * run `runToken` (the run that took the next attempt).
 */
export function attemptAbortedId(seq: number, attempt: number, runToken: string): string {
  return `in${seq}.a${attempt}.r${runToken}.aborted`;
}

/** Id of the error entry of a dead-lettered inbound message `seq`. */
export function deadLetterId(seq: number): string {
  return `in${seq}.dead`;
}
