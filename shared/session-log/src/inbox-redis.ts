import { DEFAULT_CONSUMER_ID, assertConsumerId } from '@holdfast/protocol';
import type { Inbox } from './inbox.js';
import type {
  InboundAccepted,
  InboundInput,
  InboundNext,
  InboundStep,
  InboundStepResult,
} from './inbox-types.js';
import { encodeMessage } from './payload.js';
import { scriptError } from './script-errors.js';
import { identityArgs, type ScriptRunner } from './script-runner.js';
import { ScriptStatus } from './script-status.js';

/** The inbox on Redis: lua/inbox-enqueue-7.lua, inbox-next-4.lua and inbox-step-2.lua. */
export class RedisInbox implements Inbox {
  constructor(private readonly runner: ScriptRunner) {}

  async enqueueInbound(sessionId: string, message: InboundInput): Promise<InboundAccepted> {
    const keys = this.runner.keys(sessionId);
    const { options } = this.runner;
    const consumerId = message.consumerId ?? DEFAULT_CONSUMER_ID;
    assertConsumerId(consumerId);
    const encoded = encodeMessage({ data: message.data, id: message.id }, options.maxPayloadBytes);
    const reply = await this.runner.runWithIdentity(
      sessionId,
      'inboxEnqueue',
      [keys.meta, keys.tomb, keys.inbox, keys.inboxState, keys.inIdsA, keys.inIdsB, keys.log],
      keys,
      [
        message.id,
        encoded.json,
        consumerId,
        options.inboundDedupeWindowMs,
        options.tombstoneTtlMs,
        options.inboundRatePerSession,
      ],
    );
    const round = Number(reply[3]);
    return {
      seq: Number(reply[1]),
      duplicate: reply[2] === 1,
      round,
      generation: round,
      epoch: String(reply[4]),
    };
  }

  async nextInbound(sessionId: string, round: number, runToken: string): Promise<InboundNext> {
    const keys = this.runner.keys(sessionId);
    const reply = await this.runner.run(
      sessionId,
      'inboxNext',
      [keys.meta, keys.tomb, keys.inbox, keys.inboxState],
      [round, runToken],
      [ScriptStatus.Ok, ScriptStatus.Idle, ScriptStatus.Stale, ScriptStatus.NotFound, ScriptStatus.Ended],
    );
    switch (reply[0]) {
      case ScriptStatus.Idle:
        return { kind: 'idle' };
      case ScriptStatus.Stale:
        return { kind: 'stale' };
      case ScriptStatus.Ok:
        return {
          kind: 'message',
          seq: Number(reply[1]),
          id: String(reply[2]),
          data: JSON.parse(String(reply[3])) as unknown,
          consumerId: String(reply[4]),
          attempt: Number(reply[5]),
          previousAttemptPublished: Number(reply[6]) > 0,
        };
      default:
        // The session is gone (not found or ended): the round is over.
        return { kind: 'ended', error: scriptError(reply, sessionId) };
    }
  }

  async stepInbound(sessionId: string, step: InboundStep): Promise<InboundStepResult> {
    const keys = this.runner.keys(sessionId);
    // Read before sending: the connection neither queues offline nor resends (log-connection.ts),
    // so a step sent now runs on this identity's process or fails.
    const identity = await this.runner.currentIdentity();
    const reply = await this.runner.run(
      sessionId,
      'inboxStep',
      [keys.inboxState, keys.meta],
      [
        ...identityArgs(identity),
        keys.live,
        step.round,
        step.seq,
        step.kind,
        step.runToken,
        step.attemptEpoch ?? '',
      ],
      [ScriptStatus.Ok, ScriptStatus.Stale, ScriptStatus.EpochMismatch],
    );
    const serverRunId = identity.runId;
    if (reply[0] === ScriptStatus.EpochMismatch) {
      return { owned: false, rewoundTo: String(reply[1]), serverRunId };
    }
    return { owned: reply[0] === ScriptStatus.Ok, serverRunId };
  }
}
