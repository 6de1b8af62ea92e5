import type { ConnectionAttempt } from '@holdfast/protocol';
import type { ConsumerLeases, HeldLease, LeaseClaim } from './consumer-leases.js';
import { RedisConsumerLeases } from './consumer-leases-redis.js';
import type { Inbox } from './inbox.js';
import { RedisInbox } from './inbox-redis.js';
import { checkKeyLayout } from './key-layout-check.js';
import type {
  InboundAccepted,
  InboundInput,
  InboundNext,
  InboundStep,
  InboundStepResult,
} from './inbox-types.js';
import type { SessionKeys } from './keys.js';
import { LogConnection } from './log-connection.js';
import { checkReplicaCount } from './replica-count-check.js';
import type { ResolvedSessionLogOptions, SessionLogOptions } from './options.js';
import type { OutboundLog } from './outbound-log.js';
import { isClusterLink } from './redis-clients.js';
import { RedisOutboundLog } from './outbound-log-redis.js';
import type { FirstRead, InfoAndRead } from './start-batches.js';
import type { MessageInput } from './payload.js';
import type {
  AckInput,
  AppendBatchOptions,
  AppendResult,
  CompleteSessionOptions,
  CreateSessionOptions,
  EndReason,
  ReadResult,
  SessionCompleted,
  SessionCreated,
  SessionInfo,
} from './types.js';

/**
 * A session log on one Redis connection: the outbound log, the consumer leases and the inbox
 * together, for callers that open one connection and hand out narrow views of it. Each method
 * is the same-named method of the part that owns it; the parts are also reachable as
 * `outbound`, `leases` and `inbox`. Code that uses one part should depend on its interface
 * (OutboundLog, ConsumerLeases, Inbox), or a Pick of it, not on this class.
 */
export class SessionLog implements OutboundLog, ConsumerLeases, Inbox {
  readonly options: ResolvedSessionLogOptions;
  readonly outbound: OutboundLog;
  readonly leases: ConsumerLeases;
  readonly inbox: Inbox;
  private readonly connection: LogConnection;
  private layoutChecked: Promise<void> | undefined;

  constructor(options: SessionLogOptions) {
    this.connection = new LogConnection(options);
    this.options = this.connection.options;
    this.outbound = new RedisOutboundLog(this.connection.runner);
    this.leases = new RedisConsumerLeases(this.connection.runner);
    this.inbox = new RedisInbox(this.connection.runner);
  }

  /**
   * Resolves once Redis is reachable, its identity is known and its key layout is this
   * process's (key-layout-check.ts: the same partition count in every process), and, with a
   * replication wait, every master has the replicas it asks for (replica-count-check.ts).
   */
  async ready(): Promise<void> {
    await this.connection.ready();
    this.layoutChecked ??= this.checkAtStart();
    await this.layoutChecked;
  }

  /** The checks a start must pass: the key layout, and enough replicas for the replication wait. */
  private async checkAtStart(): Promise<void> {
    const redis = this.connection.runner.redis;
    await checkKeyLayout(redis, this.options);
    const wait = this.options.replicationWait;
    if (wait) await checkReplicaCount(redis, wait);
  }

  /** True when the log runs on a Redis Cluster (multi-session calls must then share a slot). */
  get onCluster(): boolean {
    return isClusterLink(this.connection.redis);
  }

  /** True while the log's Redis connection is up and answers its liveness probe in time. */
  get connected(): boolean {
    return this.connection.connected;
  }

  async close(): Promise<void> {
    await this.flushLingeringAcks();
    await this.connection.close();
  }

  // The outbound log (outbound-log.ts).

  flushLingeringAcks(): Promise<void> {
    return this.outbound.flushLingeringAcks();
  }

  keys(sessionId: string): SessionKeys {
    return this.outbound.keys(sessionId);
  }

  createSession(sessionId: string, options?: CreateSessionOptions): Promise<SessionCreated> {
    return this.outbound.createSession(sessionId, options);
  }

  append(sessionId: string, data: unknown, options?: { id?: string }): Promise<AppendResult> {
    return this.outbound.append(sessionId, data, options);
  }

  appendBatch(
    sessionId: string,
    messages: readonly MessageInput[],
    options?: AppendBatchOptions,
  ): Promise<AppendResult[]> {
    return this.outbound.appendBatch(sessionId, messages, options);
  }

  read(sessionId: string, options: { from: number; limit?: number; maxBytes?: number }): Promise<ReadResult> {
    return this.outbound.read(sessionId, options);
  }

  ack(sessionId: string, input: AckInput): Promise<{ ackedOffset: number }> {
    return this.outbound.ack(sessionId, input);
  }

  info(sessionId: string): Promise<SessionInfo> {
    return this.outbound.info(sessionId);
  }

  infoAndRead(sessionId: string, read?: FirstRead): Promise<InfoAndRead> {
    return this.outbound.infoAndRead(sessionId, read);
  }

  touch(sessionId: string): Promise<void> {
    return this.outbound.touch(sessionId);
  }

  enforceRetention(sessionId: string): Promise<number | undefined> {
    return this.outbound.enforceRetention(sessionId);
  }

  scanSessions(cursor?: string, count?: number): Promise<{ cursor: string; sessionIds: string[] }> {
    return this.outbound.scanSessions(cursor, count);
  }

  completeSession(sessionId: string, options?: CompleteSessionOptions): Promise<SessionCompleted> {
    return this.outbound.completeSession(sessionId, options);
  }

  endSession(sessionId: string, reason?: EndReason): Promise<void> {
    return this.outbound.endSession(sessionId, reason);
  }

  // The consumer leases (consumer-leases.ts; the fencing protocol: consumer-leases-redis.ts).

  claimLease(
    sessionId: string,
    consumerId: string,
    holder: string,
    leaseMs?: number,
    attempt?: ConnectionAttempt,
  ): Promise<LeaseClaim> {
    return this.leases.claimLease(sessionId, consumerId, holder, leaseMs, attempt);
  }

  renewLease(
    sessionId: string,
    consumerId: string,
    generation: number,
    leaseMs: number,
  ): Promise<number | undefined> {
    return this.leases.renewLease(sessionId, consumerId, generation, leaseMs);
  }

  renewLeases(leases: readonly HeldLease[], leaseMs: number): Promise<Array<number | undefined>> {
    return this.leases.renewLeases(leases, leaseMs);
  }

  releaseLease(sessionId: string, consumerId: string, generation: number): Promise<void> {
    return this.leases.releaseLease(sessionId, consumerId, generation);
  }

  // The inbox (inbox.ts).

  enqueueInbound(sessionId: string, message: InboundInput): Promise<InboundAccepted> {
    return this.inbox.enqueueInbound(sessionId, message);
  }

  nextInbound(sessionId: string, round: number, runToken: string): Promise<InboundNext> {
    return this.inbox.nextInbound(sessionId, round, runToken);
  }

  stepInbound(sessionId: string, step: InboundStep): Promise<InboundStepResult> {
    return this.inbox.stepInbound(sessionId, step);
  }
}
