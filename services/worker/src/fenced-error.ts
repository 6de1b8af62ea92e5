/**
 * This execution of an inbox run no longer owns the message it was handling: another run took it over
 * (BullMQ re-ran the inbox run because it thought this worker had died, or the session ended).
 * Nothing was written; the handler must stop, and its output is superseded.
 */
export class FencedError extends Error {
  override readonly name = 'FencedError';

  constructor(
    message = 'this run no longer owns the message (another run took it over); nothing was published',
  ) {
    super(message);
  }
}
