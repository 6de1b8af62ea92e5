import { Redis, type RedisOptions } from 'ioredis';
import {
  DEFAULT_CONSUMER_ID,
  ErrorCode,
  HoldfastError,
  isHoldfastError,
  assertConsumerId,
  assertOffset,
  assertSessionId,
} from '@holdfast/protocol';
import { newEpoch } from './epoch-id.js';
import { GroupCommitter } from './group-commit.js';
import { allSessionKeys, sessionKeys, type SessionKeys } from './keys.js';
import {
  optionalRetentionMs,
  resolveOptions,
  resolveRetention,
  type ResolvedSessionLogOptions,
  type SessionLogOptions,
} from './options.js';
import { encodeMessage, type EncodedMessage, type MessageInput } from './payload.js';
import { toHoldfastError } from './redis-errors.js';
import { RedisLinkProbe } from './redis-link-probe.js';
import { expectOk, scriptError } from './script-errors.js';
import { defineScripts, runScript, type ScriptName, type ScriptReply } from './scripts.js';
import { ServerIdentityTracker, type ServerIdentity } from './server-identity.js';
import type { InboundAccepted, InboundInput, InboundNext } from './inbox-types.js';
import type {
  AckInput,
  AppendResult,
  CompleteSessionOptions,
  CreateSessionOptions,
  EndReason,
  LogEntry,
  ReadResult,
  SessionCompleted,
  SessionCreated,
  SessionInfo,
} from './types.js';

/** What a session id in a key looks like (see assertSessionId); anything else is not ours. */
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The durable log of every session's outbound messages, on one Redis (standalone for now;
 * every key of a session is hash-tagged for Redis Cluster). It owns every key and script of
 * a session: create, append (idempotent, group-committed), read, ack, info, touch, end.
 */
export class SessionLog {
  readonly options: ResolvedSessionLogOptions;
  private readonly redis: Redis;
  private readonly identity: ServerIdentityTracker;
  private readonly committer: GroupCommitter;
  private readonly probe: RedisLinkProbe;

  constructor(options: SessionLogOptions) {
    this.options = resolveOptions(options);
    const base: RedisOptions = typeof options.redis === 'string' ? {} : options.redis;
    const connection: RedisOptions = {
      ...base,
      // Fail fast instead of queueing or resending: a command must never reach a different
      // Redis process than the one whose run id it carries (see server-identity.ts).
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.options.commandTimeoutMs,
      maxRetriesPerRequest: 0,
      connectionName: base.connectionName ?? 'holdfast-session-log',
    };
    this.redis =
      typeof options.redis === 'string' ? new Redis(options.redis, connection) : new Redis(connection);
    // Errors surface through the calls that fail; without a listener ioredis logs each one.
    this.redis.on('error', () => undefined);
    defineScripts(this.redis);
    this.probe = new RedisLinkProbe(this.redis, this.options.linkProbe);
    this.identity = new ServerIdentityTracker(this.redis, this.options.durabilityCheckIntervalMs);
    this.committer = new GroupCommitter({
      redis: this.redis,
      identity: this.identity,
      options: this.options.groupCommit,
      timeoutMs: this.options.commandTimeoutMs,
      appendCall: (sessionId, identity, messages) => this.appendCall(sessionId, identity, messages),
    });
  }

  /** Resolves once Redis is reachable and its identity is known. */
  async ready(): Promise<void> {
    await this.identity.current(this.options.commandTimeoutMs);
  }

  /** True while the log's Redis connection is up and answers its liveness probe in time. */
  get connected(): boolean {
    return this.probe.alive;
  }

  keys(sessionId: string): SessionKeys {
    assertSessionId(sessionId);
    return sessionKeys(this.options.keyPrefix, sessionId);
  }

  /** Create a session. Fails with `session_exists`, or `session_ended` while a tombstone lives. */
  async createSession(sessionId: string, options: CreateSessionOptions = {}): Promise<SessionCreated> {
    const keys = this.keys(sessionId);
    const retention = resolveRetention('retention', options.retention, this.options.retention);
    const idleTtlMs = options.idleTtlMs ?? this.options.idleTtlMs;
    if (!Number.isSafeInteger(idleTtlMs) || idleTtlMs < 0) {
      throw new HoldfastError(
        ErrorCode.InvalidOptions,
        `idleTtlMs must be an integer >= 0, got ${String(idleTtlMs)}`,
      );
    }
    const completedRetentionMs = optionalRetentionMs(options.completedRetentionMs);
    const identity = await this.identity.current(this.options.commandTimeoutMs);
    const reply = await this.run(
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
        this.options.tombstoneTtlMs,
        completedRetentionMs,
      ],
    );
    return { sessionId, epoch: String(reply[1]), createdAt: Number(reply[2]) };
  }

  /** Append one message; see `appendBatch`. */
  append(sessionId: string, data: unknown, options: { id?: string } = {}): Promise<AppendResult> {
    // Not async, and no appendBatch in between: on the hot path every promise hop per message
    // shows (the bench producer spent a fifth of its time in GC).
    let encoded: EncodedMessage;
    try {
      assertSessionId(sessionId);
      encoded = encodeMessage({ data, id: options.id }, this.options.maxPayloadBytes);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.committer.submit(sessionId, [encoded]).then((outcome) => {
      const first = outcome.offsets[0];
      if (!first) throw new Error('append returned no result');
      return { offset: first.offset, epoch: outcome.epoch, duplicate: first.duplicate };
    });
  }

  /**
   * Append messages to a session, in order, all or none, forwarded to live readers together.
   * Messages with an id seen in the dedupe window are not written again: their original offset
   * comes back with `duplicate: true`. Concurrent calls are group-committed.
   */
  async appendBatch(sessionId: string, messages: readonly MessageInput[]): Promise<AppendResult[]> {
    assertSessionId(sessionId);
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new HoldfastError(ErrorCode.InvalidPayload, 'appendBatch needs a non-empty array of messages');
    }
    if (messages.length > this.options.maxBatchMessages) {
      throw new HoldfastError(
        ErrorCode.BatchTooLarge,
        `a batch holds at most ${this.options.maxBatchMessages} messages (maxBatchMessages), got ${messages.length}`,
      );
    }
    const encoded = messages.map((m) => encodeMessage(m, this.options.maxPayloadBytes));
    const outcome = await this.committer.submit(sessionId, encoded);
    return outcome.offsets.map(({ offset, duplicate }) => ({ offset, epoch: outcome.epoch, duplicate }));
  }

  /**
   * Read from offset `from` (inclusive), at most `limit` entries and about `maxBytes` of data
   * (always at least one entry when any is available).
   */
  async read(
    sessionId: string,
    options: { from: number; limit?: number; maxBytes?: number },
  ): Promise<ReadResult> {
    const keys = this.keys(sessionId);
    assertOffset(options.from, 'from');
    const limit = options.limit ?? 100;
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
      throw new HoldfastError(
        ErrorCode.InvalidOptions,
        `limit must be an integer from 1 to 10000, got ${String(limit)}`,
      );
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new HoldfastError(
        ErrorCode.InvalidOptions,
        `maxBytes must be a positive integer, got ${String(maxBytes)}`,
      );
    }
    const from = Math.max(options.from, 1);
    const reply = await this.runWithIdentity(sessionId, 'read', [keys.meta, keys.log, keys.tomb], keys, [
      from,
      limit,
      maxBytes,
    ]);
    const head = Number(reply[3]);
    const firstAvailable = Number(reply[4]);
    const finalOffset = Number(reply[5]);
    const entries: LogEntry[] = [];
    for (let i = 6; i < reply.length; i += 2) {
      const json = String(reply[i + 1]);
      entries.push({ offset: Number(reply[i]), data: JSON.parse(json) as unknown, bytes: json.length });
    }
    return {
      epoch: String(reply[1]),
      head,
      firstAvailable,
      trimmed: from < firstAvailable && from <= head,
      entries,
      // -1: not completed (a session completed with no messages has final offset 0).
      ...(finalOffset >= 0 ? { finalOffset } : {}),
    };
  }

  /**
   * Store a consumer's acknowledged offset. Monotonic: an older ack leaves it unchanged and
   * returns the stored value. Fails with `ack_beyond_head` or `epoch_mismatch`.
   */
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
    const reply = await this.runWithIdentity(sessionId, 'ack', [keys.meta, keys.log, keys.tomb], keys, [
      consumerId,
      input.epoch,
      input.offset,
      this.options.tombstoneTtlMs,
      input.leaseGeneration ?? '',
    ]);
    return { ackedOffset: Number(reply[1]) };
  }

  /**
   * A new connection of a consumer takes the consumer's lease. The returned generation fences
   * every older connection: their acks fail with `replaced`. `previousHolder` names the
   * connection that held it, so its edge can be told to close it. Counts as activity.
   */
  async claimLease(
    sessionId: string,
    consumerId: string,
    holder: string,
    /** The consumer counts as connected this long unless the lease is renewed. */
    leaseMs = 15_000,
  ): Promise<{ generation: number; previousHolder: string | undefined }> {
    const keys = this.keys(sessionId);
    assertConsumerId(consumerId);
    const reply = await this.run(
      sessionId,
      'claim',
      [keys.meta, keys.log, keys.tomb],
      [consumerId, holder, this.options.tombstoneTtlMs, leaseMs],
    );
    const previous = String(reply[2]);
    return { generation: Number(reply[1]), previousHolder: previous === '' ? undefined : previous };
  }

  /**
   * Renew a connection's lease: returns the generation of the consumer's newest connection
   * (the lease is still held when it is the connection's own), or undefined when the session is
   * gone. While held, the consumer counts as connected for another `leaseMs`.
   */
  async renewLease(
    sessionId: string,
    consumerId: string,
    generation: number,
    leaseMs: number,
  ): Promise<number | undefined> {
    return this.lease(sessionId, consumerId, generation, 'renew', leaseMs);
  }

  /** A connection closed cleanly: its consumer no longer counts as connected (unless replaced). */
  async releaseLease(sessionId: string, consumerId: string, generation: number): Promise<void> {
    await this.lease(sessionId, consumerId, generation, 'release', 0);
  }

  private async lease(
    sessionId: string,
    consumerId: string,
    generation: number,
    action: 'renew' | 'release',
    leaseMs: number,
  ): Promise<number | undefined> {
    const keys = this.keys(sessionId);
    assertConsumerId(consumerId);
    try {
      const reply = await this.run(
        sessionId,
        'lease',
        [keys.meta, keys.log, keys.tomb],
        [consumerId, generation, action, leaseMs, this.options.tombstoneTtlMs],
      );
      return Number(reply[1]);
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

  async info(sessionId: string): Promise<SessionInfo> {
    const keys = this.keys(sessionId);
    const reply = await this.runWithIdentity(sessionId, 'info', [keys.meta, keys.log, keys.tomb], keys, []);
    const now = Number(reply[4]);
    const meta = new Map<string, string>();
    for (let i = 5; i < reply.length; i += 2) meta.set(String(reply[i]), String(reply[i + 1]));
    const acks: Record<string, number> = {};
    const connected: Record<string, boolean> = {};
    for (const [field, value] of meta) {
      if (field.startsWith('ack:')) acks[field.slice(4)] = Number(value);
      if (field.startsWith('seen:')) connected[field.slice(5)] = Number(value) > now;
    }
    const num = (field: string): number => Number(meta.get(field) ?? 0);
    return {
      sessionId,
      epoch: meta.get('epoch') ?? '',
      head: num('head'),
      firstAvailable: Number(reply[2]),
      length: Number(reply[3]),
      acks,
      connected,
      createdAt: num('created'),
      lastActiveAt: num('active'),
      retention: { maxMessages: num('maxLen'), maxAgeMs: num('maxAgeMs') },
      idleTtlMs: num('idleTtlMs'),
      durable: meta.get('durable') === '1',
      ...(meta.has('completed') ? { completedAt: num('completed'), finalOffset: num('final') } : {}),
    };
  }

  /**
   * Trim the session's messages older than its max age now, without appending (appends do it
   * themselves). Returns the first retained offset, or undefined when the session is gone.
   */
  async enforceRetention(sessionId: string): Promise<number | undefined> {
    const keys = this.keys(sessionId);
    try {
      for (;;) {
        const reply = await this.run(sessionId, 'trim', [keys.meta, keys.log, keys.tomb], []);
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

  /**
   * Every live session id, a page at a time (SCAN: no blocking, each id at least once; call
   * again with the returned cursor until it is '0'). On a cluster, run it against each master.
   */
  async scanSessions(cursor = '0', count = 500): Promise<{ cursor: string; sessionIds: string[] }> {
    const prefix = `${this.options.keyPrefix}:{`;
    try {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*}:meta`, 'COUNT', count);
      const sessionIds = keys
        .map((key) => key.slice(prefix.length, key.length - '}:meta'.length))
        .filter((id) => SESSION_ID_PATTERN.test(id));
      return { cursor: next, sessionIds };
    } catch (error) {
      throw toHoldfastError(error);
    }
  }

  /** Mark the session active (a client connected), refreshing its idle expiry. */
  async touch(sessionId: string): Promise<void> {
    const keys = this.keys(sessionId);
    await this.run(sessionId, 'touch', [keys.meta, keys.log, keys.tomb], [this.options.tombstoneTtlMs]);
  }

  /**
   * Complete a session: no more appends (they fail with `session_completed`), everything up to
   * the returned final offset stays readable for the completed retention. Atomic with appends
   * and idempotent (a second call returns the first call's answer).
   */
  async completeSession(sessionId: string, options: CompleteSessionOptions = {}): Promise<SessionCompleted> {
    const keys = this.keys(sessionId);
    const retentionMs = optionalRetentionMs(options.completedRetentionMs);
    const reply = await this.runWithIdentity(sessionId, 'complete', allSessionKeys(keys), keys, [
      retentionMs,
      this.options.tombstoneTtlMs,
      this.options.completedRetentionMs,
    ]);
    return { epoch: String(reply[1]), finalOffset: Number(reply[2]), completedAt: Number(reply[3]) };
  }

  /** End a session: delete its keys, leave a tombstone, tell live readers. */
  async endSession(sessionId: string, reason: EndReason = 'deleted'): Promise<void> {
    const keys = this.keys(sessionId);
    await this.run(sessionId, 'end', allSessionKeys(keys), [keys.live, reason, this.options.tombstoneTtlMs]);
  }

  /**
   * Accept an inbound message from a client: deduplicated by its id, stored in the session's
   * inbox with the next sequence number. `generation` names the drain job that will handle it:
   * submit that job (idempotently) before acknowledging the client.
   */
  async enqueueInbound(sessionId: string, message: InboundInput): Promise<InboundAccepted> {
    const keys = this.keys(sessionId);
    const consumerId = message.consumerId ?? DEFAULT_CONSUMER_ID;
    assertConsumerId(consumerId);
    const encoded = encodeMessage({ data: message.data, id: message.id }, this.options.maxPayloadBytes);
    const reply = await this.run(
      sessionId,
      'inboxEnqueue',
      [keys.meta, keys.tomb, keys.inbox, keys.inboxState, keys.inIdsA, keys.inIdsB, keys.log],
      [
        message.id,
        encoded.json,
        consumerId,
        this.options.inboundDedupeWindowMs,
        this.options.tombstoneTtlMs,
        this.options.inboundRatePerSession,
      ],
    );
    return { seq: Number(reply[1]), duplicate: reply[2] === 1, generation: Number(reply[3]) };
  }

  /**
   * The next inbound message for the drain `generation`, run `runToken` (which becomes its
   * owner), or why there is none.
   */
  async nextInbound(sessionId: string, generation: number, runToken: string): Promise<InboundNext> {
    const keys = this.keys(sessionId);
    let reply: ScriptReply;
    try {
      reply = await runScript(
        this.redis,
        'inboxNext',
        [keys.meta, keys.tomb, keys.inbox, keys.inboxState],
        [generation, runToken],
      );
    } catch (error) {
      throw toHoldfastError(error);
    }
    const status = reply[0];
    if (status === 0) return { kind: 'idle' };
    if (status === -7) return { kind: 'stale' };
    if (status !== 1) return { kind: 'ended', error: scriptError(reply, sessionId) };
    return {
      kind: 'message',
      seq: Number(reply[1]),
      id: String(reply[2]),
      data: JSON.parse(String(reply[3])) as unknown,
      consumerId: String(reply[4]),
      attempt: Number(reply[5]),
      previousAttemptPublished: Number(reply[6]) > 0,
    };
  }

  /**
   * Record progress of the inbound message `seq` handled by run `runToken`: `publish` before
   * each publish of its reply, `done` when it is handled (or dead-lettered). False when the run
   * is stale and must stop without publishing.
   */
  async stepInbound(
    sessionId: string,
    step: { generation: number; seq: number; runToken: string; kind: 'publish' | 'done' },
  ): Promise<boolean> {
    const keys = this.keys(sessionId);
    try {
      const reply = await runScript(
        this.redis,
        'inboxStep',
        [keys.inboxState],
        [step.generation, step.seq, step.kind, step.runToken],
      );
      return reply[0] === 1;
    } catch (error) {
      throw toHoldfastError(error);
    }
  }

  async close(): Promise<void> {
    this.identity.stop();
    this.probe.stop();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private appendCall(
    sessionId: string,
    identity: ServerIdentity,
    messages: readonly EncodedMessage[],
  ): { keys: string[]; args: Array<string | number> } {
    const keys = sessionKeys(this.options.keyPrefix, sessionId);
    const args: Array<string | number> = [
      identity.runId,
      identity.durable ? '1' : '0',
      newEpoch(),
      keys.live,
      this.options.dedupeWindowMs,
      this.options.tombstoneTtlMs,
    ];
    for (const message of messages) args.push(message.id, message.json);
    return { keys: [keys.meta, keys.log, keys.tomb, keys.idsA, keys.idsB], args };
  }

  /** Scripts that apply the epoch rule take the server identity and a candidate epoch first. */
  private async runWithIdentity(
    sessionId: string,
    name: ScriptName,
    scriptKeys: string[],
    keys: SessionKeys,
    args: Array<string | number>,
  ): Promise<ScriptReply> {
    const identity = await this.identity.current(this.options.commandTimeoutMs);
    return this.run(sessionId, name, scriptKeys, [
      identity.runId,
      identity.durable ? '1' : '0',
      newEpoch(),
      keys.live,
      ...args,
    ]);
  }

  private async run(
    sessionId: string,
    name: ScriptName,
    keys: string[],
    args: Array<string | number>,
  ): Promise<ScriptReply> {
    let reply: ScriptReply;
    try {
      reply = await runScript(this.redis, name, keys, args);
    } catch (error) {
      throw toHoldfastError(error);
    }
    return expectOk(reply, sessionId);
  }
}
