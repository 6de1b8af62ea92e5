import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { ScriptStatus, type ScriptStatusValue } from './script-status.js';
import type { ScriptReply } from './scripts.js';

/**
 * Turn a script's failure status into the typed error callers handle. `sessionId` goes in the
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
    case ScriptStatus.Superseded:
      return new HoldfastError(
        ErrorCode.Superseded,
        `a newer connection attempt (${String(detail)}) of this client already claimed session ${sessionId}; this older one gives way`,
        { details: { attempt: Number(detail) } },
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

const OK_ONLY: readonly ScriptStatusValue[] = [ScriptStatus.Ok];

/**
 * The one checker every script reply goes through: returns the reply when its status is one the
 * caller handles (by default only `Ok`), and throws the typed error for any other, including a
 * reply that is not a status-led array at all.
 */
export function checkReply(
  reply: unknown,
  sessionId: string,
  accepted: readonly ScriptStatusValue[] = OK_ONLY,
): ScriptReply {
  if (!Array.isArray(reply)) {
    throw new HoldfastError(ErrorCode.RedisUnavailable, `unexpected script reply ${JSON.stringify(reply)}`);
  }
  const checked = reply as ScriptReply;
  if (!accepted.includes(checked[0] as ScriptStatusValue)) throw scriptError(checked, sessionId);
  return checked;
}
