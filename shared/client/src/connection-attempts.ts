import type { ConnectionAttempt } from '@holdfast/protocol';
import { randomId } from './random-id.js';

/**
 * The client's own order of its connection attempts (protocol 4): a random id for this session
 * object and a number that grows with every attempt, both sent in the handshake. Edges claim
 * the consumer's lease in whatever order they reach Redis; with these, the claim of an attempt
 * this client already gave up on (at a stalled edge, over a half-open link) cannot fence the
 * newer attempt that was accepted elsewhere, so the client is never told `replaced` by itself.
 * The id is not stored: another session object, even in the same page, is another client.
 */
export class ConnectionAttempts {
  private readonly instance = randomId();
  private last = 0;

  /** The next attempt: call once per connection attempt. */
  next(): ConnectionAttempt {
    this.last += 1;
    return { instance: this.instance, attempt: this.last };
  }
}
