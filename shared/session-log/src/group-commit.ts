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

/** One session's share of a script call: some of its queued groups, in arrival order. */
interface SessionPart {
  readonly sessionId: string;
  readonly groups: PendingGroup[];
}

/** One script call: sessions of one partition, within the per-call limits. */
interface ScriptCall {
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

export interface GroupCommitDeps {
  /** Its connection and identity; the append script is pipelined on the same connection. */
  readonly runner: ScriptRunner;
  readonly options: GroupCommitOptions;
  /** The partition of a session (keys.ts): one script call carries sessions of one partition. */
  readonly partitionOf: (sessionId: string) => number;
  /** Keys and arguments of the append script for these sessions of one partition. */
  readonly appendCall: (
    sessions: readonly SessionAppend[],
    identity: ServerIdentity,
  ) => { keys: string[]; args: Array<string | number> };
  /** True when appends carry traces to stamp (append-trace.ts); false costs nothing. */
  readonly traced?: boolean;
  /** Where the batch size and flush time are registered (SessionLogOptions.metricsRegistry). */
  readonly metricsRegistry?: Registry | undefined;
}

/**
 * Group commit for appends. While a flush is in flight, new appends wait; when it returns,
 * everything that arrived goes out together: one script call per partition carrying every
 * queued session of that partition (each session's groups in arrival order; a partition's
 * sessions split over several calls only to respect the per-call limits), all written to the
 * connection at once, each caller answered from its own session's part of its call's reply.
 * A lone awaited append is sent at once as a batch of one; under load batches grow by
 * themselves, which is what makes `appendfsync always` affordable, and the more sessions a
 * call carries, the fewer script calls and Redis TIME reads per message.
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
        const sessions = call.parts.map((part) => ({
          sessionId: part.sessionId,
          messages:
            part.groups.length === 1
              ? (part.groups[0] as PendingGroup).messages
              : part.groups.flatMap((g) => g.messages),
        }));
        const { keys, args } = this.deps.appendCall(sessions, identity);
        return runScript(redis, 'append', keys, args).then(
          (reply) => {
            if (traced) stampFlush([call], 'repliedAt');
            settleCall(call, reply);
          },
          (error: unknown) => rejectCall(call, error),
        );
      });
    } finally {
      socket?.uncork();
      if (traced) stampFlush(calls, 'sentAt');
    }
  }

  /**
   * Group the queued sessions by partition, and split each partition's sessions into script
   * calls within the per-call limits (a session's groups stay in order, possibly over calls).
   */
  private planCalls(batch: Map<string, PendingGroup[]>): ScriptCall[] {
    const { maxMessagesPerCall, maxBytesPerCall } = this.deps.options;
    const byPartition = new Map<number, ScriptCall[]>();
    const calls: ScriptCall[] = [];
    for (const [sessionId, groups] of batch) {
      const partition = this.deps.partitionOf(sessionId);
      let partitionCalls = byPartition.get(partition);
      if (!partitionCalls) byPartition.set(partition, (partitionCalls = []));
      let call = partitionCalls[partitionCalls.length - 1];
      let part: SessionPart | undefined;
      for (const group of groups) {
        if (!call || !fits(call, group, maxMessagesPerCall, maxBytesPerCall)) {
          call = { parts: [], groups: [], messages: 0, bytes: 0 };
          partitionCalls.push(call);
          calls.push(call);
          part = undefined;
        }
        if (!part) {
          part = { sessionId, groups: [] };
          call.parts.push(part);
        }
        part.groups.push(group);
        call.groups.push(group);
        call.messages += group.messages.length;
        call.bytes += group.bytes;
      }
    }
    return calls;
  }
}

/** Whether `group` may join `call`: a call always takes its first group, however large. */
function fits(call: ScriptCall, group: PendingGroup, maxMessages: number, maxBytes: number): boolean {
  if (call.groups.length === 0) return true;
  return call.messages + group.messages.length <= maxMessages && call.bytes + group.bytes <= maxBytes;
}

function countMessages(calls: readonly ScriptCall[]): number {
  let count = 0;
  for (const call of calls) for (const group of call.groups) count += group.messages.length;
  return count;
}

function rejectCall(call: ScriptCall, error: unknown): void {
  const failure = toHoldfastError(error);
  for (const group of call.groups) group.reject(failure);
}

/** Answer each session of a call from its own part of the reply ({OK, reply1, reply2, ...}). */
function settleCall(call: ScriptCall, reply: unknown): void {
  if (!Array.isArray(reply) || reply.length !== call.parts.length + 1) {
    rejectCall(call, new Error(`unexpected append reply ${JSON.stringify(reply)}`));
    return;
  }
  call.parts.forEach((part, i) => settlePart(part, reply[i + 1]));
}

function settlePart(part: SessionPart, reply: unknown): void {
  try {
    if (reply instanceof Error) throw toHoldfastError(reply);
    const ok = checkReply(reply, part.sessionId);
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
