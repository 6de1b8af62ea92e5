/**
 * Per-stage timing of appends, for finding where an append's latency goes (the bench and
 * bench/probes/append-latency.ts use it). Off unless `appendTrace` is given: then each append
 * carries one record that the group commit stamps as it passes; when off, the append path pays
 * one property check per call and one per flush stage, and allocates nothing.
 *
 * Stamps are `performance.now()` milliseconds of this process, in the order they happen.
 */
export interface AppendTrace {
  readonly sessionId: string;
  /** Messages in this append call (1 for `append`). */
  readonly messages: number;
  /** `append`/`appendBatch` entered. */
  readonly calledAt: number;
  /** Validated, encoded and queued in the group commit. */
  enqueuedAt: number;
  /** The flush that carries it began (the microtask after the first append of the tick). */
  flushStartedAt: number;
  /** Its script call was handed to the connection (ioredis writes it to the socket now). */
  sentAt: number;
  /** The reply (or the whole pipeline's replies) came back to the group commit. */
  repliedAt: number;
  /** The caller's promise is being resolved (the caller's own code runs next). */
  resolvedAt: number;
  /** Script calls in the flush that carried it (its batch across sessions). */
  flushCalls: number;
}

/** Receives each successful append's trace as its caller is resolved. Must not throw. */
export type AppendTraceObserver = (trace: AppendTrace) => void;

export function beginTrace(sessionId: string, messages: number): AppendTrace {
  return {
    sessionId,
    messages,
    calledAt: performance.now(),
    enqueuedAt: 0,
    flushStartedAt: 0,
    sentAt: 0,
    repliedAt: 0,
    resolvedAt: 0,
    flushCalls: 0,
  };
}

type FlushStage = 'flushStartedAt' | 'sentAt' | 'repliedAt';

/** Stamp one stage on every traced append of a flush. */
export function stampFlush(
  calls: ReadonlyArray<{ readonly groups: ReadonlyArray<{ readonly trace?: AppendTrace | undefined }> }>,
  stage: FlushStage,
): void {
  const now = performance.now();
  for (const call of calls) {
    for (const group of call.groups) {
      if (!group.trace) continue;
      group.trace[stage] = now;
      if (stage === 'flushStartedAt') group.trace.flushCalls = calls.length;
    }
  }
}

/** The caller is about to be resolved: stamp it and hand the trace to the observer. */
export function finishTrace(trace: AppendTrace, observer: AppendTraceObserver): void {
  trace.resolvedAt = performance.now();
  observer(trace);
}
