/**
 * The message ids worker output is written with. They are derived from the inbound sequence
 * number, the attempt and the position within the attempt, so a publish retried after a
 * timeout is deduplicated by the session log (within its dedupe window) instead of written
 * twice, while a new attempt writes fresh entries. The envelopes themselves are part of the
 * protocol (@holdfast/protocol), since clients read them.
 */

/** Id of the `index`-th entry (0-based) published by attempt `attempt` of inbound message `seq`. */
export function replyId(seq: number, attempt: number, index: number): string {
  return `in${seq}.a${attempt}.i${index}`;
}

/** Id of the marker saying attempt `attempt` of inbound message `seq` was aborted. */
export function attemptAbortedId(seq: number, attempt: number): string {
  return `in${seq}.a${attempt}.aborted`;
}

/** Id of the error entry of a dead-lettered inbound message `seq`. */
export function deadLetterId(seq: number): string {
  return `in${seq}.dead`;
}
