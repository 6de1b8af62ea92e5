/**
 * The worker is shutting down and its grace period is over: the handler's signal is aborted
 * with this reason and publishing is refused. The message is resumed, as a new attempt, by
 * another worker.
 */
export class WorkerStoppingError extends Error {
  override readonly name = 'WorkerStoppingError';

  constructor(message = 'the worker is shutting down; the message will be resumed by another worker') {
    super(message);
  }
}
