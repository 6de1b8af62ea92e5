import { ErrorCode, HoldfastError, validateIntegerOption } from '@holdfast/protocol';

/**
 * Synchronous replication (issue 17): after a write, `WAIT <replicas> <timeoutMs>` on the same
 * connection, and the write is acknowledged only when that many replicas confirmed it. Redis
 * replication stays asynchronous underneath (WAIT is not consensus: a replica that confirmed
 * may still not be the one promoted), but with one replica per master, or `replicas` equal to
 * the replicas each master has, every acknowledged write is on the replica a failover promotes.
 */
export interface ReplicationWait {
  /** Replicas that must confirm each write. At least 1. */
  replicas: number;
  /**
   * How long to wait for them: a write not confirmed by then fails with `replication_timeout`
   * (it may still be in the log and on some replicas: retry with the same message id).
   * Below the command timeout, so the WAIT answers before the client gives up on it.
   */
  timeoutMs: number;
}

/** Validate the option against the command timeout; undefined (the default) means off. */
export function resolveReplicationWait(
  wait: ReplicationWait | undefined,
  commandTimeoutMs: number,
): ReplicationWait | undefined {
  if (wait === undefined) return undefined;
  const replicas = validateIntegerOption('replicationWait.replicas', wait.replicas, { min: 1, max: 1000 });
  // WAIT with 0 blocks until the replicas answer, however long: never what a caller wants.
  const timeoutMs = validateIntegerOption('replicationWait.timeoutMs', wait.timeoutMs, { min: 1 });
  if (timeoutMs >= commandTimeoutMs) {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `replicationWait.timeoutMs (${timeoutMs}) must be below commandTimeoutMs (${commandTimeoutMs}), or the client gives up on the WAIT before Redis answers it: lower HOLDFAST_REPLICATION_WAIT's timeout or raise the command timeout`,
    );
  }
  return { replicas, timeoutMs };
}

/** The error of a write that fewer replicas confirmed than asked. */
export function replicationTimeout(confirmed: number, wait: ReplicationWait): HoldfastError {
  return new HoldfastError(
    ErrorCode.ReplicationTimeout,
    `${confirmed} of ${wait.replicas} replicas confirmed the write within ${wait.timeoutMs} ms; it may be in the log: retry with the same message id`,
    { details: { confirmed, replicas: wait.replicas, timeoutMs: wait.timeoutMs } },
  );
}
