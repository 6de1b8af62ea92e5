import {
  DEFAULT_CONSUMER_ID,
  ErrorCode,
  HoldfastError,
  isHoldfastError,
  assertConsumerId,
  assertOffset,
  assertSessionId,
  isSessionId,
  validateIntegerOption,
} from '@holdfast/protocol';
import { AckBatcher } from './ack-batches.js';
import { beginTrace, finishTrace } from './append-trace.js';
import { leaseFencingArg } from './consumer-leases-redis.js';
import { newEpoch } from './epoch-id.js';
import { GroupCommitter, type SessionAppend } from './group-commit.js';
import { allSessionKeys, metaKeyPattern, partitionOf, sessionIdOfMetaKey, type SessionKeys } from './keys.js';
import { optionalRetentionMs, resolveRetention } from './options.js';
import type { OutboundLog } from './outbound-log.js';
import { decodeInfoReply, decodeReadReply } from './outbound-replies.js';
import { encodeMessage, type EncodedMessage, type MessageInput } from './payload.js';
import { scanKeys } from './key-scan.js';
import { StartBatcher, type FirstRead, type InfoAndRead } from './start-batches.js';
import { toHoldfastError } from './redis-errors.js';
import { runWritten } from './replicated-scripts.js';
import { identityArgs, type ScriptRunner } from './script-runner.js';
import type { ServerIdentity } from './server-identity.js';
import type {
  AppendBatchOptions,
  AckInput,
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
 * The outbound log on one Redis (standalone for now; every key of a session is hash-tagged for
 * Redis Cluster): every key and script of a session's messages, from create to end.
 */
export class RedisOutboundLog implements OutboundLog {
  private readonly committer: GroupCommitter;
  private readonly starts: StartBatcher;
  private readonly acks: AckBatcher;

  constructor(private readonly runner: ScriptRunner) {
    this.starts = new StartBatcher(runner);
    this.acks = new AckBatcher(runner);
    this.committer = new GroupCommitter({
      runner,
      options: runner.options.groupCommit,
      partitionOf: (sessionId) => partitionOf(sessionId, runner.options.partitions),
      appendCall: (sessions, identity) => this.appendCall(sessions, identity),
      traced: runner.options.appendTrace !== undefined,
      replicationWait: runner.options.replicationWait,
      metricsRegistry: runner.options.metricsRegistry,
    });
  }

  keys(sessionId: string): SessionKeys {
    return this.runner.keys(sessionId);
  }

  async createSession(sessionId: string, options: CreateSessionOptions = {}): Promise<SessionCreated> {
    const keys = this.keys(sessionId);
    const defaults = this.runner.options;
    const retention = resolveRetention('retention', options.retention, defaults.retention);
    const idleTtlMs = options.idleTtlMs ?? defaults.idleTtlMs;
    validateIntegerOption('idleTtlMs', idleTtlMs);
    const completedRetentionMs = optionalRetentionMs(options.completedRetentionMs);
    const identity = await this.runner.currentIdentity();
    const reply = await runWritten(
      this.runner,
      sessionId,
      'create',
      [keys.meta, keys.log, keys.tomb],
      [
        newEpoch(),
        identity.runId,
        identity.durable ? '1' : '0',
        retention.maxMessages,
        retention.maxAgeMs,
        idleTtlMs,
        defaults.tombstoneTtlMs,
        completedRetentionMs,
      ],
    );
    return { sessionId, epoch: String(reply[1]), createdAt: Number(reply[2]) };
  }

  append(sessionId: string, data: unknown, options: { id?: string } = {}): Promise<AppendResult> {
    // Not async, and no appendBatch in between: on the hot path every promise hop per message
    // shows (the bench producer spent a fifth of its time in GC).
    const observer = this.runner.options.appendTrace;
    const trace = observer ? beginTrace(sessionId, 1) : undefined;
    let encoded: EncodedMessage;
    try {
      assertSessionId(sessionId);
      encoded = encodeMessage({ data, id: options.id }, this.runner.options.maxPayloadBytes);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.committer.submit(sessionId, [encoded], trace).then((outcome) => {
      const first = outcome.offsets[0];
      if (!first) throw new Error('append returned no result');
      if (trace && observer) finishTrace(trace, observer);
      return { offset: first.offset, epoch: outcome.epoch, duplicate: first.duplicate };
    });
  }

  async appendBatch(
    sessionId: string,
    messages: readonly MessageInput[],
    options: AppendBatchOptions = {},
  ): Promise<AppendResult[]> {
    const observer = this.runner.options.appendTrace;
    const trace = observer && Array.isArray(messages) ? beginTrace(sessionId, messages.length) : undefined;
    assertSessionId(sessionId);
    const { maxBatchMessages, maxPayloadBytes } = this.runner.options;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new HoldfastError(ErrorCode.InvalidPayload, 'appendBatch needs a non-empty array of messages');
    }
    if (messages.length > maxBatchMessages) {
      throw new HoldfastError(
        ErrorCode.BatchTooLarge,
        `a batch holds at most ${maxBatchMessages} messages (maxBatchMessages), got ${messages.length}`,
      );
    }
    const encoded = messages.map((m) => encodeMessage(m, maxPayloadBytes));
    const outcome = await this.committer.submit(sessionId, encoded, trace, options.onServer || undefined);
    if (trace && observer) finishTrace(trace, observer);
    return outcome.offsets.map(({ offset, duplicate }) => ({ offset, epoch: outcome.epoch, duplicate }));
  }

  async read(
    sessionId: string,
    options: { from: number; limit?: number; maxBytes?: number },
  ): Promise<ReadResult> {
    const keys = this.keys(sessionId);
    assertOffset(options.from, 'from');
    const limit = options.limit ?? 100;
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    validateIntegerOption('limit', limit, { min: 1, max: 10_000 });
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new HoldfastError(
        ErrorCode.InvalidOptions,
        `maxBytes must be a positive integer, got ${String(maxBytes)}`,
      );
    }
    const from = Math.max(options.from, 1);
    const reply = await this.runner.runWithIdentity(
      sessionId,
      'read',
      [keys.meta, keys.log, keys.tomb],
      keys,
      [from, limit, maxBytes],
    );
    return decodeReadReply(reply, from);
  }

  flushLingeringAcks(): Promise<void> {
    return this.acks.flushLingering();
  }

  async ack(sessionId: string, input: AckInput): Promise<{ ackedOffset: number }> {
    const keys = this.keys(sessionId);
    const consumerId = input.consumerId ?? DEFAULT_CONSUMER_ID;
    assertConsumerId(consumerId);
    assertOffset(input.offset);
    if (typeof input.epoch !== 'string' || input.epoch.length === 0 || input.epoch.length > 64) {
      throw new HoldfastError(
        ErrorCode.EpochMismatch,
        'epoch must be the non-empty epoch string of the session',
      );
    }
    // Batched with the acks of other sessions in the same turn (ack-batches.ts, ack-n.lua).
    const ackedOffset = await this.acks.ack(sessionId, keys, {
      consumerId,
      epoch: input.epoch,
      offset: input.offset,
      leaseGeneration: leaseFencingArg(input.leaseGeneration),
    });
    return { ackedOffset };
  }

  async info(sessionId: string): Promise<SessionInfo> {
    const keys = this.keys(sessionId);
    const reply = await this.runner.runWithIdentity(
      sessionId,
      'info',
      [keys.meta, keys.log, keys.tomb],
      keys,
      [],
    );
    return decodeInfoReply(reply, sessionId);
  }

  infoAndRead(sessionId: string, read?: FirstRead): Promise<InfoAndRead> {
    return this.starts.infoAndRead(sessionId, read);
  }

  async touch(sessionId: string): Promise<void> {
    const keys = this.keys(sessionId);
    await this.runner.run(
      sessionId,
      'touch',
      [keys.meta, keys.log, keys.tomb],
      [this.runner.options.tombstoneTtlMs],
    );
  }

  async enforceRetention(sessionId: string): Promise<number | undefined> {
    const keys = this.keys(sessionId);
    try {
      for (;;) {
        const reply = await this.runner.run(sessionId, 'trim', [keys.meta, keys.log, keys.tomb], []);
        if (reply[2] !== 1) return Number(reply[1]);
      }
    } catch (error) {
      if (
        isHoldfastError(error, ErrorCode.SessionEnded) ||
        isHoldfastError(error, ErrorCode.SessionNotFound)
      ) {
        return undefined;
      }
      throw error;
    }
  }

  async scanSessions(cursor = '0', count = 500): Promise<{ cursor: string; sessionIds: string[] }> {
    const prefix = this.runner.options.keyPrefix;
    try {
      const [next, keys] = await scanKeys(this.runner.redis, cursor, metaKeyPattern(prefix), count);
      const sessionIds: string[] = [];
      for (const key of keys) {
        const id = sessionIdOfMetaKey(prefix, key);
        if (id !== undefined && isSessionId(id)) sessionIds.push(id); // anything else is not ours
      }
      return { cursor: next, sessionIds };
    } catch (error) {
      throw toHoldfastError(error);
    }
  }

  async completeSession(sessionId: string, options: CompleteSessionOptions = {}): Promise<SessionCompleted> {
    const keys = this.keys(sessionId);
    const retentionMs = optionalRetentionMs(options.completedRetentionMs);
    const defaults = this.runner.options;
    const identity = await this.runner.currentIdentity();
    const reply = await runWritten(this.runner, sessionId, 'complete', allSessionKeys(keys), [
      ...identityArgs(identity),
      keys.live,
      retentionMs,
      defaults.tombstoneTtlMs,
      defaults.completedRetentionMs,
    ]);
    return { epoch: String(reply[1]), finalOffset: Number(reply[2]), completedAt: Number(reply[3]) };
  }

  async endSession(sessionId: string, reason: EndReason = 'deleted'): Promise<void> {
    const keys = this.keys(sessionId);
    await this.runner.run(sessionId, 'end', allSessionKeys(keys), [
      keys.live,
      reason,
      this.runner.options.tombstoneTtlMs,
    ]);
  }

  /** The append script's keys and arguments for sessions of one partition (lua/append-n.lua). */
  private appendCall(
    sessions: readonly SessionAppend[],
    identity: ServerIdentity,
  ): { keys: string[]; args: Array<string | number> } {
    const { dedupeWindowMs, tombstoneTtlMs } = this.runner.options;
    const keys: string[] = [];
    const args: Array<string | number> = [
      identity.runId,
      identity.durable ? '1' : '0',
      dedupeWindowMs,
      tombstoneTtlMs,
    ];
    for (const { sessionId, messages } of sessions) {
      const k = this.runner.keys(sessionId);
      keys.push(k.meta, k.log, k.tomb, k.idsA, k.idsB);
      args.push(newEpoch(), k.live, messages.length);
      for (const message of messages) args.push(message.id, message.json);
    }
    return { keys, args };
  }
}
