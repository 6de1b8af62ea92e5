import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import type { ScriptReply } from './scripts.js';

/** Status codes the Lua scripts reply with (see lua/lib.lua). */
export const ScriptStatus = {
  Ok: 1,
  NotFound: -1,
  Ended: -2,
  Exists: -3,
  EpochMismatch: -4,
  BeyondHead: -5,
  Fenced: -6,
  RateLimited: -9,
  Completed: -10,
} as const;

/**
 * Turn a script's negative status into the typed error callers handle. `sessionId` goes in the
 * message so a log line alone says which session it was about.
 */
export function scriptError(reply: ScriptReply, sessionId: string): HoldfastError {
  const [status, detail] = reply;
  switch (status) {
    case ScriptStatus.NotFound:
      return new HoldfastError(ErrorCode.SessionNotFound, `session ${sessionId} does not exist`);
    case ScriptStatus.Ended:
      return new HoldfastError(ErrorCode.SessionEnded, `session ${sessionId} has ended (${String(detail)})`, {
        details: { reason: detail },
      });
    case ScriptStatus.Exists:
      return new HoldfastError(ErrorCode.SessionExists, `session ${sessionId} already exists`);
    case ScriptStatus.EpochMismatch:
      return new HoldfastError(
        ErrorCode.EpochMismatch,
        `session ${sessionId} is in epoch ${String(detail)}; offsets of other epochs are meaningless here`,
        { details: { epoch: detail } },
      );
    case ScriptStatus.BeyondHead:
      return new HoldfastError(
        ErrorCode.AckBeyondHead,
        `offset is beyond the head (${String(detail)}) of session ${sessionId}`,
        { details: { head: Number(detail) } },
      );
    case ScriptStatus.Fenced:
      return new HoldfastError(
        ErrorCode.Replaced,
        `a newer connection (generation ${String(detail)}) of this consumer holds session ${sessionId}`,
        { details: { generation: Number(detail) } },
      );
    case ScriptStatus.RateLimited:
      return new HoldfastError(ErrorCode.RateLimited, `session ${sessionId} is sending too fast`, {
        details: { retryAfterMs: Number(detail) },
      });
    case ScriptStatus.Completed:
      return new HoldfastError(
        ErrorCode.SessionCompleted,
        `session ${sessionId} is completed (final offset ${String(detail)}); it takes no more messages`,
        { details: { finalOffset: Number(detail) } },
      );
    default:
      return new HoldfastError(
        ErrorCode.RedisUnavailable,
        `unexpected script reply ${JSON.stringify(reply)}`,
      );
  }
}

/** Throws the typed error for a failed script reply; returns the reply when it succeeded. */
export function expectOk(reply: ScriptReply, sessionId: string): ScriptReply {
  if (reply[0] !== ScriptStatus.Ok) throw scriptError(reply, sessionId);
  return reply;
}
