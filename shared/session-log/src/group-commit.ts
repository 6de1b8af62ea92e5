import type { Registry } from 'prom-client';
import { stampFlush, type AppendTrace } from './append-trace.js';
import {
  countMessages,
  fits,
  refuseOtherServers,
  rejectCall,
  sessionsOf,
  settleCall,
  type GroupOutcome,
  type PendingGroup,
  type ScriptCall,
  type SessionAppend,
  type SessionPart,
} from './group-commit-calls.js';
import { GroupCommitMetrics } from './group-commit-metrics.js';
import type { GroupCommitOptions } from './options.js';
import type { EncodedMessage } from './payload.js';
import { isClusterLink } from './redis-clients.js';
import { toHoldfastError } from './redis-errors.js';
import { runReplicated } from './replicated-scripts.js';
import type { ReplicationWait } from './replication-wait.js';
import type { ScriptRunner } from './script-runner.js';
import { runScript } from './scripts.js';
import type { ServerIdentity } from './server-identity.js';

export type { GroupOutcome, SessionAppend } from './group-commit-calls.js';

export interface GroupCommitDeps {
  /** Its connection and identity; the append script is pipelined on the same connection. */
  readonly runner: ScriptRunner;
  readonly options: GroupCommitOptions;
  /**
   * The partition of a session (keys.ts): where a call's keys must share a slot
   * (ScriptRunner.onePartitionPerCall), one script call carries sessions of one partition.
   */
  readonly partitionOf: (sessionId: string) => number;
  /** Keys and arguments of the append script for these sessions of one partition. */
  readonly appendCall: (
    sessions: readonly SessionAppend[],
    identity: ServerIdentity,
  ) => { keys: string[]; args: Array<string | number> };
  /** Acknowledge a flush only once this many replicas have it (replication-wait.ts); off when unset. */
  readonly replicationWait?: ReplicationWait | undefined;
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

  submit(
    sessionId: string,
    messages: readonly EncodedMessage[],
    trace?: AppendTrace,
    onServer?: string,
  ): Promise<GroupOutcome> {
    return new Promise((resolve, reject) => {
      let bytes = 0;
      for (const message of messages) bytes += message.bytes;
      const group: PendingGroup = { messages, bytes, resolve, reject, trace, onServer };
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
    const traced = this.deps.traced === true;
    const stopTimer = this.metrics?.flushSeconds.startTimer();
    try {
      // The identity first: groups bound to another server are refused before planning.
      const identity = await this.deps.runner.currentIdentity();
      const onePartition = await this.deps.runner.onePartitionPerCall();
      const calls = this.planCalls(refuseOtherServers(batch, identity.runId), onePartition);
      if (traced) stampFlush(calls, 'flushStartedAt');
      if (this.metrics) this.metrics.batchMessages.observe(countMessages(calls));
      const wait = this.deps.replicationWait;
      await Promise.all(
        wait ? this.sendReplicated(calls, identity, wait, traced) : this.send(calls, identity, traced),
      );
    } catch (error) {
      // Settling a settled promise does nothing: this fails only the groups still waiting.
      const failure = toHoldfastError(error);
      for (const groups of batch.values()) for (const group of groups) group.reject(failure);
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
    // On a cluster a call refused with TRYAGAIN (its slot migrating) is sent again later, so a
    // later call of the same session (a large group split over calls) could land first if the
    // slot is handed over in between: there a call waits for the session's previous one.
    const ordered = isClusterLink(redis);
    const previousCall = new Map<string, Promise<unknown>>();
    socket?.cork();
    try {
      return calls.map((call) => {
        const { keys, args } = this.deps.appendCall(sessionsOf(call), identity);
        // Retried in place while the slot migrates: the flush waits, so the next flush (one
        // at a time by default) cannot overtake these appends of the same sessions.
        const attempt = () => this.deps.runner.retryOnSlotMove(() => runScript(redis, 'append', keys, args));
        const before = ordered ? call.parts.flatMap((part) => previousCall.get(part.sessionId) ?? []) : [];
        const sent = before.length === 0 ? attempt() : Promise.allSettled(before).then(attempt);
        if (ordered) for (const part of call.parts) previousCall.set(part.sessionId, sent);
        return sent.then(
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
   * `send` with a replication wait: the same calls, each Redis node's followed by one WAIT
   * (replicated-scripts.ts, a pipeline per node), and every caller answered once the WAIT
   * confirmed its write. Every caller waits for the WAIT anyway, so the per-call replies and
   * the corked socket of `send` would buy nothing here.
   */
  private sendReplicated(
    calls: readonly ScriptCall[],
    identity: ServerIdentity,
    wait: ReplicationWait,
    traced: boolean,
  ): Array<Promise<void>> {
    const invocations = calls.map((call) => ({
      name: 'append' as const,
      ...this.deps.appendCall(sessionsOf(call), identity),
    }));
    const outcomes = runReplicated(this.deps.runner.redis, invocations, wait);
    if (traced) stampFlush(calls, 'sentAt');
    return outcomes.map((outcome, i) => {
      const call = calls[i] as ScriptCall;
      return outcome.then(
        ({ reply, unreplicated }) => {
          if (traced) stampFlush([call], 'repliedAt');
          settleCall(call, reply, unreplicated);
        },
        (error: unknown) => rejectCall(call, error),
      );
    });
  }

  /**
   * Group the queued sessions by partition when calls must stay within one (else all share
   * one group), and split each group's sessions into script calls within the per-call limits
   * (a session's groups stay in order, possibly over calls). On a standalone Redis a flush of
   * many quiet sessions is then one call, not one per partition: 250 token streams gave about
   * one message per call with 256 partitions.
   */
  private planCalls(batch: Map<string, PendingGroup[]>, onePartitionPerCall: boolean): ScriptCall[] {
    const { maxMessagesPerCall, maxBytesPerCall } = this.deps.options;
    const byPartition = new Map<number, ScriptCall[]>();
    const calls: ScriptCall[] = [];
    for (const [sessionId, groups] of batch) {
      const partition = onePartitionPerCall ? this.deps.partitionOf(sessionId) : 0;
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
