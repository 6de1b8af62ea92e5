/**
 * The first read of a resuming connection, made with its session's info in one batched script
 * call (OutboundLog.infoAndRead) instead of a call of its own after the hello. In a resume storm
 * most clients miss a little: their whole backlog comes back with the info, and the catch-up
 * read queue (at most 8 reads in flight per edge) is left to the large backlogs.
 *
 * The read is a guess made before the start point is decided (start-point.ts): right after the
 * client's position. It is used only when the decision agrees (no reset, same first offset),
 * and only as the answer to the delivery cursor's first read, which it can always stand for:
 * a read with smaller bounds from the same offset, made after the live channel was joined.
 */
import type { LogPosition, StartFrom } from '@holdfast/protocol';
import type { FirstRead, ReadResult } from '@holdfast/session-log';
import type { WindowLimits } from './flow-window.js';
import type { StartDecision } from './start-point.js';

/**
 * Bounds of the first read: a small backlog whole (a few hundred short messages), while a batch
 * of START_BATCH connections' first reads stays about a megabyte on the edge's Redis connection.
 */
export const FIRST_READ_MESSAGES = 256;
export const FIRST_READ_BYTES = 16 * 1024;

/** The read to make with the info: from right after the client's position, if it has one. */
export function firstReadFor(
  position: LogPosition | StartFrom | undefined,
  window: WindowLimits,
): FirstRead | undefined {
  // A position at the largest safe offset has no next one to read: its start decision (a
  // reset) reads nothing from there anyway.
  if (typeof position !== 'object' || !Number.isSafeInteger(position.offset + 1)) return undefined;
  return {
    from: position.offset + 1,
    limit: Math.min(window.messages, FIRST_READ_MESSAGES),
    maxBytes: Math.min(window.bytes, FIRST_READ_BYTES),
  };
}

/** A read made with the info, kept for the cursor's first read when the start decision agrees. */
export class PrefetchedRead {
  private constructor(
    private readonly read: FirstRead,
    private result: ReadResult | undefined,
  ) {}

  static keep(
    read: FirstRead | undefined,
    result: ReadResult | undefined,
    decision: StartDecision,
  ): PrefetchedRead | undefined {
    if (!read || !result || decision.reset || decision.startOffset !== read.from) return undefined;
    return new PrefetchedRead(read, result);
  }

  /**
   * The kept result, once, if it answers a read from `from` within these bounds (the cursor's
   * first read asks for the whole window, which the kept read's bounds never exceed).
   */
  take(from: number, limit: number, maxBytes: number): ReadResult | undefined {
    const { result, read } = this;
    this.result = undefined;
    if (!result || from !== read.from || limit < read.limit || maxBytes < read.maxBytes) return undefined;
    return result;
  }
}
