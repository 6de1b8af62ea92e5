import {
  ErrorCode,
  isHoldfastError,
  MAX_ERROR_MESSAGE_LENGTH,
  attemptAbortedEnvelope,
  errorEnvelope,
  truncate,
} from '@holdfast/protocol';
import type { InboundNext } from '@holdfast/session-log';
import type { InboxRunJobData } from '@holdfast/inbound-queue';
import { retryDelayMs, sleep } from './backoff.js';
import type { DeadLetter } from './dead-letters.js';
import type { InboxRunExecution } from './inbox-run-execution.js';
import { attemptAbortedId, deadLetterId } from './envelopes.js';
import { AttemptOutput, AttemptRewoundError } from './attempt-output.js';
import { FencedError } from './fenced-error.js';
import type { Handler } from './handler.js';
import { MessageContext, appendAsOwner, type InboxLog, type MessageRef } from './message-context.js';
import { WorkerStoppingError } from './worker-stopping-error.js';
import { errorMessage, type WorkerLog } from './worker-log.js';
import type { AttemptSink } from './worker-metrics.js';

export interface RetryPolicy {
  /** Attempts a message gets, however each one ends (error, crash, shutdown). */
  readonly maxAttempts: number;
  /** Backoff before the second attempt; doubles for each further one. */
  readonly baseMs: number;
  /** Longest backoff. */
  readonly maxMs: number;
}

export interface InboxRunDeps {
  readonly log: InboxLog;
  readonly handler: Handler;
  readonly deadLetters: { record(letter: DeadLetter): Promise<unknown> };
  readonly retry: RetryPolicy;
  readonly report: WorkerLog;
  /** Attempts and dead letters, for the worker's metrics. */
  readonly metrics?: AttemptSink;
}

/**
 * Why an inbox run ended. `idle`, `stale`, `ended` and `fenced` end the job; `stopped` means
 * the worker is shutting down and the job must go back to the queue for another worker.
 */
export type InboxRunOutcome = 'idle' | 'stale' | 'ended' | 'fenced' | 'stopped';

/** `completed`: the session completed, so this message (and every later one) stays unanswered. */
type MessageOutcome = 'continue' | 'completed' | 'ended' | 'fenced' | 'stopped';

type InboundMessageNext = Extract<InboundNext, { kind: 'message' }>;

/**
 * Hand a session's inbound messages to the handler one at a time, in order, until the inbox is
 * empty. Infrastructure errors (Redis) are thrown: BullMQ retries the job.
 */
export async function runInbox(
  job: InboxRunJobData,
  run: InboxRunExecution,
  deps: InboxRunDeps,
): Promise<InboxRunOutcome> {
  let completed = false;
  for (;;) {
    if (run.stopRequested) return run.fenced ? 'fenced' : 'stopped';
    const next = await deps.log.nextInbound(job.sessionId, job.generation, run.token);
    if (next.kind !== 'message') return next.kind;
    // Once the session completed, nothing a handler publishes can land: the messages left are
    // stepped past unhandled, so the inbox settles instead of being retried and swept forever.
    const outcome = completed
      ? await leaveUnanswered(job, run, next, deps)
      : await handleMessage(job, run, next, deps);
    if (outcome === 'completed') completed = true;
    else if (outcome !== 'continue') return outcome;
  }
}

/** The inbox position of `next`, as its replies and the inbox step name it. */
function messageRef(job: InboxRunJobData, next: InboundMessageNext): MessageRef {
  return { sessionId: job.sessionId, generation: job.generation, seq: next.seq, attempt: next.attempt };
}

async function handleMessage(
  job: InboxRunJobData,
  run: InboxRunExecution,
  next: InboundMessageNext,
  deps: InboxRunDeps,
): Promise<MessageOutcome> {
  const ref = messageRef(job, next);
  const fields = { sessionId: job.sessionId, seq: next.seq, messageId: next.id, attempt: next.attempt };
  const output = new AttemptOutput();
  try {
    if (next.attempt > deps.retry.maxAttempts) {
      // Every allowed attempt was started and none finished: the last one was interrupted
      // (possibly by this very message crashing its worker). Never run it again.
      const message = `attempt ${next.attempt - 1} was interrupted (its worker stopped or crashed) and no attempts are left`;
      return await deadLetter(run, ref, next, message, next.attempt - 1, deps, output);
    }
    if (next.attempt > 1) deps.report('info', 'message resumed in a new attempt', fields);
    if (next.attempt > 1 && next.previousAttemptPublished) {
      await appendAsOwner(
        deps.log,
        run,
        ref,
        [
          {
            id: attemptAbortedId(next.seq, next.attempt - 1, run.token),
            data: attemptAbortedEnvelope(next.id, next.attempt - 1),
          },
        ],
        output,
      );
    }

    const ctx = new MessageContext(
      deps.log,
      run,
      ref,
      { id: next.id, data: next.data, consumerId: next.consumerId },
      output,
    );
    let failure: { error: unknown } | undefined;
    const startedAt = performance.now();
    try {
      await deps.handler(ctx);
    } catch (error) {
      failure = { error };
    }
    // A handler that returns after its signal aborted may well have cut its reply short, so
    // an aborted attempt never counts as handled: another attempt runs the message again.
    const interrupted = run.signal.aborted;
    deps.metrics?.attemptEnded(
      interrupted ? 'aborted' : failure ? 'failed' : 'ok',
      (performance.now() - startedAt) / 1000,
    );
    await ctx.close();
    if (run.fenced) throw new FencedError();
    // Interrupted by shutdown: not the handler's fault; another worker resumes the message.
    if (interrupted) return 'stopped';
    // The handler's output may be gone with Redis data: neither a success nor its failure.
    if (output.rewoundTo !== undefined) throw new AttemptRewoundError(output.epoch ?? '', output.rewoundTo);

    if (!failure) {
      await markDone(run, ref, deps, output);
      return 'continue';
    }
    if (
      isHoldfastError(failure.error, ErrorCode.SessionEnded) ||
      isHoldfastError(failure.error, ErrorCode.SessionNotFound)
    ) {
      return 'ended';
    }
    if (isHoldfastError(failure.error, ErrorCode.SessionCompleted)) {
      return await leaveUnanswered(job, run, next, deps);
    }
    const message = errorMessage(failure.error);
    deps.report('warn', 'handler attempt failed', { ...fields, error: truncate(message, 500) });
    if (next.attempt >= deps.retry.maxAttempts) {
      return await deadLetter(run, ref, next, message, next.attempt, deps, output);
    }
    const delay = retryDelayMs(next.attempt, deps.retry.baseMs, deps.retry.maxMs);
    return (await sleep(delay, run.stopSignal)) ? 'continue' : 'stopped';
  } catch (error) {
    if (error instanceof FencedError) {
      deps.report('warn', 'run fenced: another run owns the message', fields);
      return 'fenced';
    }
    if (error instanceof WorkerStoppingError) return 'stopped';
    if (error instanceof AttemptRewoundError) {
      // Still this run's message (the restored inbox says so): the next `nextInbound` hands it
      // back as a new attempt, whose marker voids whatever of this one reached the app.
      deps.report('warn', 'attempt void: Redis lost data after it wrote output; running it again', {
        ...fields,
        error: error.message,
      });
      return 'continue';
    }
    // An `attempt_aborted` or dead-letter envelope refused: the session completed meanwhile.
    if (isHoldfastError(error, ErrorCode.SessionCompleted))
      return await leaveUnanswered(job, run, next, deps);
    throw error;
  }
}

/**
 * The session completed: it takes no more replies, so the message is stepped past without a
 * (further) attempt and without a dead letter; the client learnt from `complete` that nothing
 * more comes.
 */
async function leaveUnanswered(
  job: InboxRunJobData,
  run: InboxRunExecution,
  next: InboundMessageNext,
  deps: InboxRunDeps,
): Promise<MessageOutcome> {
  const ref = messageRef(job, next);
  try {
    await markDone(run, ref, deps);
  } catch (error) {
    if (error instanceof FencedError) return 'fenced';
    throw error;
  }
  deps.report('info', 'session completed: message left unanswered', {
    sessionId: job.sessionId,
    seq: next.seq,
    messageId: next.id,
  });
  return 'completed';
}

/**
 * Give up on a message: tell the session (an error envelope), keep it for operators (the
 * dead-letter stream), then let the next message start. A dead letter never blocks the session.
 */
async function deadLetter(
  run: InboxRunExecution,
  ref: MessageRef,
  next: InboundMessageNext,
  message: string,
  attempts: number,
  deps: InboxRunDeps,
  output: AttemptOutput,
): Promise<MessageOutcome> {
  await appendAsOwner(
    deps.log,
    run,
    ref,
    [{ id: deadLetterId(ref.seq), data: errorEnvelope(next.id, message, attempts) }],
    output,
  );
  await deps.deadLetters.record({
    sessionId: ref.sessionId,
    seq: ref.seq,
    messageId: next.id,
    consumerId: next.consumerId,
    attempts,
    error: truncate(message, MAX_ERROR_MESSAGE_LENGTH),
    data: next.data,
  });
  await markDone(run, ref, deps, output);
  deps.metrics?.deadLettered();
  deps.report('warn', 'message dead-lettered', {
    sessionId: ref.sessionId,
    seq: ref.seq,
    messageId: next.id,
    attempts,
  });
  return 'continue';
}

/** Settle the message; with `output`, only if what the attempt wrote is still in the log. */
async function markDone(
  run: InboxRunExecution,
  ref: MessageRef,
  deps: InboxRunDeps,
  output?: AttemptOutput,
): Promise<void> {
  const step = await deps.log.stepInbound(ref.sessionId, {
    round: ref.generation,
    seq: ref.seq,
    runToken: run.token,
    kind: 'done',
    attemptEpoch: output?.epoch,
  });
  if (step.rewoundTo !== undefined && output) output.rewound(step.rewoundTo);
  if (!step.owned) {
    const fenced = new FencedError('this run no longer owns the message; another run will finish it');
    run.abort(fenced);
    throw fenced;
  }
}
