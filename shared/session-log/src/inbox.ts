import type {
  InboundAccepted,
  InboundInput,
  InboundNext,
  InboundStep,
  InboundStepResult,
} from './inbox-types.js';

/**
 * The inbox: each session's inbound (client to server) messages, deduplicated, in order, handed
 * to one job at a time. The contract; inbox-redis.ts is the implementation. Edges enqueue,
 * workers take and step.
 *
 * Rounds: each time a session's inbox goes from idle to pending, a new round opens (1, 2, 3, …
 * per session); its number names the one job that works through the inbox until it is empty.
 * Every run of that job carries its own run token, and the run that takes a message owns it.
 * A run of any other round, or a run that lost its message, is stale and must stop.
 * (A round is not a consumer lease's generation: that fences client connections.)
 */
export interface Inbox {
  /**
   * Accept an inbound message from a client: deduplicated by its id, stored in the session's
   * inbox with the next sequence number. `round` names the job that will handle it: submit
   * that job (idempotently) before acknowledging the client.
   */
  enqueueInbound(sessionId: string, message: InboundInput): Promise<InboundAccepted>;

  /**
   * The next inbound message for inbox round `round`, taken by run `runToken` (which becomes its
   * owner), or why there is none.
   */
  nextInbound(sessionId: string, round: number, runToken: string): Promise<InboundNext>;

  /**
   * Record progress of the inbound message `seq` handled by run `runToken`: `publish` before
   * each publish of its reply, `done` when it is handled (or dead-lettered). Not `owned` when
   * the run is stale and must stop without publishing.
   */
  stepInbound(sessionId: string, step: InboundStep): Promise<InboundStepResult>;
}
