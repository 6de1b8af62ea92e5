/**
 * The reply statuses of the session log's Lua scripts: the first element of every reply. Each
 * is named once in lua/lib.lua (`HF_NOT_FOUND = -1`, …) and once here under the same name in
 * PascalCase (`NotFound: -1`); test/unit/script-status.test.ts parses lib.lua to keep the two
 * tables equal, as BullMQ keeps its Lua error codes in one `ErrorCode` enum. Every reply goes
 * through `checkReply` (script-errors.ts), which turns the failures into typed errors.
 */
export const ScriptStatus = {
  /** Done; script-specific fields follow. */
  Ok: 1,
  /** inbox-next: nothing left, the inbox round is over. */
  Idle: 0,
  NotFound: -1,
  /** + the reason ("deleted" / "expired"). */
  Ended: -2,
  Exists: -3,
  /** + the epoch in force. */
  EpochMismatch: -4,
  /** + the head. */
  BeyondHead: -5,
  /** A newer connection of the consumer holds the lease; + its generation (see consumer-leases-redis.ts). */
  Fenced: -6,
  /** The inbox round or run asking no longer owns the inbox. */
  Stale: -7,
  /** + retry after (ms). */
  RateLimited: -9,
  /** + the final offset. */
  Completed: -10,
  /** claim: a newer attempt of the same client instance claimed the lease; + that attempt. */
  Superseded: -11,
} as const;

export type ScriptStatusName = keyof typeof ScriptStatus;
export type ScriptStatusValue = (typeof ScriptStatus)[ScriptStatusName];

const KNOWN = new Set<unknown>(Object.values(ScriptStatus));

export function isScriptStatus(value: unknown): value is ScriptStatusValue {
  return KNOWN.has(value);
}
