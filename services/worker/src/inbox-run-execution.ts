import { randomBytes } from 'node:crypto';
import { FencedError } from './fenced-error.js';

/**
 * One execution of an inbox run job: what BullMQ starts each time it processes the job (a
 * re-run after a crash is a new execution). Its random token (the inbox scripts' run token)
 * fences every other execution of the same inbox run: the inbox hands a message to the execution
 * that asked for it last, and refuses the steps of the others.
 *
 * Two ways to stop it: `requestStop` (shutdown begins: finish the current message, take no
 * next one) and `abort` (grace over, or fenced: the handler's signal aborts and publishing is
 * refused).
 */
export class InboxRunExecution {
  readonly token = randomBytes(12).toString('base64url');
  private readonly stopController = new AbortController();
  private readonly abortController = new AbortController();

  /** Aborted when the run should take no further message (and cut a retry backoff short). */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  /** The handlers' signal: aborted on shutdown after the grace period, or when fenced. */
  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  get stopRequested(): boolean {
    return this.stopController.signal.aborted;
  }

  get fenced(): boolean {
    return this.abortController.signal.reason instanceof FencedError;
  }

  requestStop(): void {
    this.stopController.abort();
  }

  abort(reason: Error): void {
    this.stopController.abort();
    this.abortController.abort(reason);
  }
}
