import { isHoldfastError } from '@holdfast/protocol';
import type { MessageInput, SessionLog } from '@holdfast/session-log';
import { sleep } from './backoff.js';
import type { InboxRunExecution } from './inbox-run-execution.js';
import { replyEnvelope } from '@holdfast/protocol';
import { replyId } from './envelopes.js';
import { FencedError } from './fenced-error.js';
import { AttemptRewoundError, type AttemptOutput } from './attempt-output.js';
import type { HandlerContext, InboundMessage } from './handler.js';

/** The parts of the session log an inbox run uses. */
export type InboxLog = Pick<SessionLog, 'nextInbound' | 'stepInbound' | 'appendBatch'>;

/** The message a run is handling, as the inbox handed it over. */
export interface MessageRef {
  readonly sessionId: string;
  readonly generation: number;
  readonly seq: number;
  readonly attempt: number;
}

/** A publish that failed on a transient Redis error is sent again, with the same ids. */
const PUBLISH_TRIES = 3;
const PUBLISH_RETRY_MS = 200;

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * Append entries on behalf of `run`, which must still own message `ref`: the inbox's publish
 * step checks that (and records that this attempt left output behind) before every append.
 * A run that lost the message is aborted with a `FencedError` and nothing is written. A
 * transient Redis failure is retried with the same message ids, so a write that did land
 * the first time is not repeated; the step is taken again on every try, so an append never
 * runs on a Redis process other than the one whose data the step was checked on. Every write
 * after the attempt's first must land in the same epoch (`output`, see attempt-output.ts);
 * otherwise the attempt is void and this throws an `AttemptRewoundError`.
 */
export async function appendAsOwner(
  log: InboxLog,
  run: InboxRunExecution,
  ref: MessageRef,
  entries: readonly MessageInput[],
  output: AttemptOutput,
): Promise<void> {
  for (let tryNumber = 1; ; tryNumber++) {
    if (run.signal.aborted) throw abortReason(run.signal);
    try {
      const step = await log.stepInbound(ref.sessionId, {
        round: ref.generation,
        seq: ref.seq,
        runToken: run.token,
        kind: 'publish',
        attemptEpoch: output.epoch,
      });
      if (step.rewoundTo !== undefined) output.rewound(step.rewoundTo);
      if (!step.owned) {
        const fenced = new FencedError();
        run.abort(fenced);
        throw fenced;
      }
      // Bound to the Redis process that answered the step: if another one (a restart that lost
      // data) would run the append, it is refused (retryable) and the step is checked again.
      const results = await log.appendBatch(ref.sessionId, entries, { onServer: step.serverRunId });
      for (const result of results) output.landedIn(result.epoch);
      return;
    } catch (error) {
      if (error instanceof AttemptRewoundError) throw error;
      if (!isHoldfastError(error) || !error.retryable || tryNumber >= PUBLISH_TRIES) throw error;
      if (!(await sleep(PUBLISH_RETRY_MS * tryNumber, run.signal))) throw abortReason(run.signal);
    }
  }
}

/**
 * What a handler gets: the message, and publish functions that envelope its replies, give
 * them derived ids and write them in call order (concurrent calls are queued, not raced).
 */
export class MessageContext implements HandlerContext {
  private nextIndex = 0;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  // The handler gets a signal of its own, so listeners it leaves behind go away with the
  // message instead of piling up on the run's signal over a long inbox run.
  private readonly controller = new AbortController();
  private readonly forwardAbort = (): void => this.controller.abort(this.run.signal.reason);

  constructor(
    private readonly log: InboxLog,
    private readonly run: InboxRunExecution,
    private readonly ref: MessageRef,
    readonly message: InboundMessage,
    private readonly output: AttemptOutput,
  ) {
    if (run.signal.aborted) this.forwardAbort();
    else run.signal.addEventListener('abort', this.forwardAbort, { once: true });
  }

  get sessionId(): string {
    return this.ref.sessionId;
  }

  get attempt(): number {
    return this.ref.attempt;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  publish(data: unknown): Promise<void> {
    return this.publishBatch([data]);
  }

  publishBatch(data: readonly unknown[]): Promise<void> {
    if (!Array.isArray(data)) return Promise.reject(new TypeError('publishBatch takes an array of replies'));
    if (this.closed) {
      return Promise.reject(
        new Error('publish called after the handler had finished; nothing was published'),
      );
    }
    if (data.length === 0) return Promise.resolve();
    const first = this.nextIndex;
    this.nextIndex += data.length;
    const entries = data.map((item: unknown, i) => ({
      id: replyId(this.ref.seq, this.ref.attempt, first + i, this.run.token),
      data: replyEnvelope(this.message.id, this.ref.attempt, item),
    }));
    const sent = this.queue.then(() => {
      // A void attempt writes nothing more: its output so far may be gone with Redis data.
      if (this.output.rewoundTo !== undefined) this.output.rewound(this.output.rewoundTo);
      return appendAsOwner(this.log, this.run, this.ref, entries, this.output);
    });
    this.queue = sent.catch((error: unknown) => {
      // Tell the handler to stop: the run takes the message again as a new attempt.
      if (error instanceof AttemptRewoundError) this.controller.abort(error);
    });
    return sent;
  }

  /** Refuse further publishes and wait for those in flight (whatever their outcome). */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    this.run.signal.removeEventListener('abort', this.forwardAbort);
  }
}
