import type { Registry } from 'prom-client';
import { stampFlush, type AppendTrace } from './append-trace.js';
import { GroupCommitMetrics } from './group-commit-metrics.js';
import type { GroupCommitOptions } from './options.js';
import type { EncodedMessage } from './payload.js';
import { toHoldfastError } from './redis-errors.js';
import { checkReply } from './script-errors.js';
import type { ScriptRunner } from './script-runner.js';
import { runScript } from './scripts.js';
import type { ServerIdentity } from './server-identity.js';

/** The outcome of one caller's append: its messages' offsets in order, in one epoch. */
export interface GroupOutcome {
  readonly epoch: string;
  readonly epochRotated: boolean;
  readonly offsets: ReadonlyArray<{ readonly offset: number; readonly duplicate: boolean }>;
}

interface PendingGroup {
  readonly messages: readonly EncodedMessage[];
  readonly bytes: number;
  readonly resolve: (outcome: GroupOutcome) => void;
  readonly reject: (error: unknown) => void;
  /** Present only while appends are traced (append-trace.ts). */
  readonly trace?: AppendTrace | undefined;
}

interface ScriptCall {
  readonly sessionId: string;
  readonly groups: PendingGroup[];
}

export interface GroupCommitDeps {
  /** Its connection and identity; the append script is pipelined on the same connection. */
  readonly runner: ScriptRunner;
  readonly options: GroupCommitOptions;
  /** Keys and arguments of the append script for these messages of one session. */
  readonly appendCall: (
    sessionId: string,
    identity: ServerIdentity,
    messages: readonly EncodedMessage[],
  ) => { keys: string[]; args: Array<string | number> };
  /** True when appends carry traces to stamp (append-trace.ts); false costs nothing. */
  readonly traced?: boolean;
  /** Where the batch size and flush time are registered (SessionLogOptions.metricsRegistry). */
  readonly metricsRegistry?: Registry | undefined;
}

/**
 * Group commit for appends. While a flush is in flight, new appends wait; when it returns,
 * everything that arrived goes out together: one script call per session (in arrival order,
 * split only between callers' groups to respect the per-call limits), all written to the
 * connection at once, each caller answered as soon as its own call's reply arrives. A lone
 * awaited append is sent at once as a batch of one; under load batches grow by themselves,
 * which is what makes `appendfsync always` affordable.
 *
 * Per-session order holds because a session's calls are queued in arrival order on one
 * connection, and Redis runs a connection's commands in order.
 */
export class GroupCommitter {
  private queue = new Map<string, PendingGroup[]>();
  private inFlight = 0;
  private flushScheduled = false;
  private readonly metrics: GroupCommitMetrics | undefined;

  constructor(private readonly deps: GroupCommitDeps) {
    const registry = deps.metricsRegistry;
    this.metrics = registry ? new GroupCommitMetrics(registry) : undefined;
  }

  submit(sessionId: string, messages: readonly EncodedMessage[], trace?: AppendTrace): Promise<GroupOutcome> {
    return new Promise((resolve, reject) => {
      let bytes = 0;
      for (const message of messages) bytes += message.bytes;
      const group: PendingGroup = { messages, bytes, resolve, reject, trace };
      if (trace) trace.enqueuedAt = performance.now();
      const groups = this.queue.get(sessionId);
      if (groups) groups.push(group);
      else this.queue.set(sessionId, [group]);
      this.scheduleFlush();
    });
  }

  /** Appends accepted but not yet answered (for metrics and graceful shutdown). */
  get pending(): number {
    return this.queue.size + this.inFlight;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight >= this.deps.options.maxInFlight || this.queue.size === 0)
      return;
    this.flushScheduled = true;
    // A microtask, so appends made in the same tick share the first flush.
    queueMicrotask(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= this.deps.options.maxInFlight || this.queue.size === 0) return;
    const batch = this.queue;
    this.queue = new Map();
    this.inFlight += 1;
    const calls = this.planCalls(batch);
    const traced = this.deps.traced === true;
    if (traced) stampFlush(calls, 'flushStartedAt');
    const stopTimer = this.metrics?.flushSeconds.startTimer();
    if (this.metrics) this.metrics.batchMessages.observe(countMessages(calls));
    try {
      const identity = await this.deps.runner.currentIdentity();
      await Promise.all(this.send(calls, identity, traced));
    } catch (error) {
      const failure = toHoldfastError(error);
      for (const call of calls) for (const group of call.groups) group.reject(failure);
    } finally {
      stopTimer?.();
      this.inFlight -= 1;
      this.scheduleFlush();
    }
  }

  /**
   * Write every script call of a flush to the connection at once, each settling its callers
   * on its own reply. It used to be an ioredis pipeline, whose one promise resolves after the
   * last reply: every caller of a 100-call flush waited for the 100th, and building the
   * Pipeline object (a property per defined script) cost more than a call. Corking the socket
   * keeps the single write a pipeline made; the calls still reach Redis in queue order.
   */
  private send(
    calls: readonly ScriptCall[],
    identity: ServerIdentity,
    traced: boolean,
  ): Array<Promise<void>> {
    const redis = this.deps.runner.redis;
    const socket = redis.stream as typeof redis.stream | undefined;
    socket?.cork();
    try {
      return calls.map((call) => {
        const messages =
          call.groups.length === 1
            ? (call.groups[0] as PendingGroup).messages
            : call.groups.flatMap((g) => g.messages);
        const { keys, args } = this.deps.appendCall(call.sessionId, identity, messages);
        return runScript(redis, 'append', keys, args).then(
          (reply) => {
            if (traced) stampFlush([call], 'repliedAt');
            settleCall(call, [null, reply]);
          },
          (error: unknown) => settleCall(call, [error as Error, null]),
        );
      });
    } finally {
      socket?.uncork();
      if (traced) stampFlush(calls, 'sentAt');
    }
  }

  /** Split each session's groups into script calls within the per-call limits. */
  private planCalls(batch: Map<string, PendingGroup[]>): ScriptCall[] {
    const { maxMessagesPerCall, maxBytesPerCall } = this.deps.options;
    const calls: ScriptCall[] = [];
    for (const [sessionId, groups] of batch) {
      let current: ScriptCall = { sessionId, groups: [] };
      let count = 0;
      let bytes = 0;
      for (const group of groups) {
        const overLimit =
          count + group.messages.length > maxMessagesPerCall || bytes + group.bytes > maxBytesPerCall;
        if (overLimit && current.groups.length > 0) {
          calls.push(current);
          current = { sessionId, groups: [] };
          count = 0;
          bytes = 0;
        }
        current.groups.push(group);
        count += group.messages.length;
        bytes += group.bytes;
      }
      calls.push(current);
    }
    return calls;
  }
}

function countMessages(calls: readonly ScriptCall[]): number {
  let count = 0;
  for (const call of calls) for (const group of call.groups) count += group.messages.length;
  return count;
}

function settleCall(call: ScriptCall, result: [Error | null, unknown] | undefined): void {
  try {
    if (!result) throw new Error('no reply for an append');
    const [error, reply] = result;
    if (error) throw toHoldfastError(error);
    const ok = checkReply(reply, call.sessionId);
    const epoch = String(ok[1]);
    const epochRotated = ok[2] === 1;
    let cursor = 3;
    for (const group of call.groups) {
      const offsets: Array<{ offset: number; duplicate: boolean }> = [];
      for (let i = 0; i < group.messages.length; i++) {
        offsets.push({ offset: Number(ok[cursor]), duplicate: ok[cursor + 1] === 1 });
        cursor += 2;
      }
      group.resolve({ epoch, epochRotated, offsets });
    }
  } catch (error) {
    for (const group of call.groups) group.reject(toHoldfastError(error));
  }
}
