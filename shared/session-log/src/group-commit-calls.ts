import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import type { AppendTrace } from './append-trace.js';
import type { EncodedMessage } from './payload.js';
import { toHoldfastError } from './redis-errors.js';
import { checkReply } from './script-errors.js';

/**
 * The script calls of a group-commit flush (group-commit.ts): what a queued caller's group is,
 * how groups are packed into calls, and how each call's reply (or failure) settles its groups.
 */

/** The outcome of one caller's append: its messages' offsets in order, in one epoch. */
export interface GroupOutcome {
  readonly epoch: string;
  readonly epochRotated: boolean;
  readonly offsets: ReadonlyArray<{ readonly offset: number; readonly duplicate: boolean }>;
}

export interface PendingGroup {
  readonly messages: readonly EncodedMessage[];
  readonly bytes: number;
  readonly resolve: (outcome: GroupOutcome) => void;
  readonly reject: (error: unknown) => void;
  /** Present only while appends are traced (append-trace.ts). */
  readonly trace?: AppendTrace | undefined;
  /** The run id the group must be written on (AppendBatchOptions.onServer), if bound. */
  readonly onServer?: string | undefined;
}

/** One session's share of a script call: some of its queued groups, in arrival order. */
export interface SessionPart {
  readonly sessionId: string;
  readonly groups: PendingGroup[];
}

/** One script call: sessions of one partition, within the per-call limits. */
export interface ScriptCall {
  readonly parts: SessionPart[];
  /** Every group of every part, for stamping traces and failing the whole call. */
  readonly groups: PendingGroup[];
  /** Messages and bytes of those groups, against the per-call limits. */
  messages: number;
  bytes: number;
}

/** What one session of a call appends, as the append script's arguments need it. */
export interface SessionAppend {
  readonly sessionId: string;
  readonly messages: readonly EncodedMessage[];
}

/** What each session of a call appends: its groups' messages, in order. */
export function sessionsOf(call: ScriptCall): SessionAppend[] {
  return call.parts.map((part) => ({
    sessionId: part.sessionId,
    messages:
      part.groups.length === 1
        ? (part.groups[0] as PendingGroup).messages
        : part.groups.flatMap((g) => g.messages),
  }));
}

/**
 * Fail the groups bound to a server other than `runId` (AppendBatchOptions.onServer), and
 * return the batch without them. Retryable: the caller checks its precondition again on the
 * server now connected. On a cluster the run id is not known here (''), and nothing is refused.
 */
export function refuseOtherServers(
  batch: Map<string, PendingGroup[]>,
  runId: string,
): Map<string, PendingGroup[]> {
  if (runId === '') return batch;
  let kept: Map<string, PendingGroup[]> | undefined;
  for (const [sessionId, groups] of batch) {
    if (!groups.some((g) => g.onServer !== undefined && g.onServer !== runId)) continue;
    kept ??= new Map(batch);
    const onThisServer = groups.filter((group) => {
      if (group.onServer === undefined || group.onServer === runId) return true;
      group.reject(
        new HoldfastError(
          ErrorCode.RedisUnavailable,
          'the Redis server changed (restart or failover) since the check this append depends on; nothing was written',
        ),
      );
      return false;
    });
    if (onThisServer.length > 0) kept.set(sessionId, onThisServer);
    else kept.delete(sessionId);
  }
  return kept ?? batch;
}

/** Whether `group` may join `call`: a call always takes its first group, however large. */
export function fits(call: ScriptCall, group: PendingGroup, maxMessages: number, maxBytes: number): boolean {
  if (call.groups.length === 0) return true;
  return call.messages + group.messages.length <= maxMessages && call.bytes + group.bytes <= maxBytes;
}

export function countMessages(calls: readonly ScriptCall[]): number {
  let count = 0;
  for (const call of calls) for (const group of call.groups) count += group.messages.length;
  return count;
}

export function rejectCall(call: ScriptCall, error: unknown): void {
  const failure = toHoldfastError(error);
  for (const group of call.groups) group.reject(failure);
}

/**
 * Answer each session of a call from its own part of the reply ({OK, reply1, reply2, ...}).
 * `unreplicated`: why the call's writes are not known to be on enough replicas, if they are
 * not; a session the script refused still gets its own error.
 */
export function settleCall(call: ScriptCall, reply: unknown, unreplicated?: Error): void {
  if (!Array.isArray(reply) || reply.length !== call.parts.length + 1) {
    rejectCall(call, new Error(`unexpected append reply ${JSON.stringify(reply)}`));
    return;
  }
  call.parts.forEach((part, i) => settlePart(part, reply[i + 1], unreplicated));
}

export function settlePart(part: SessionPart, reply: unknown, unreplicated: Error | undefined): void {
  try {
    if (reply instanceof Error) throw toHoldfastError(reply);
    const ok = checkReply(reply, part.sessionId);
    if (unreplicated) throw unreplicated;
    const epoch = String(ok[1]);
    const epochRotated = ok[2] === 1;
    let cursor = 3;
    for (const group of part.groups) {
      const offsets: Array<{ offset: number; duplicate: boolean }> = [];
      for (let i = 0; i < group.messages.length; i++) {
        offsets.push({ offset: Number(ok[cursor]), duplicate: ok[cursor + 1] === 1 });
        cursor += 2;
      }
      group.resolve({ epoch, epochRotated, offsets });
    }
  } catch (error) {
    for (const group of part.groups) group.reject(toHoldfastError(error));
  }
}
