import type {
  ClientMessage,
  HoldfastClientError,
  HoldfastSession,
  ResetPayload,
  SessionState,
  StateChange,
} from '@holdfast/client';
import { assertContiguous } from './raw-client.js';
import { waitFor } from '@holdfast/testing';

/**
 * Records everything a client SDK session hands to its app — messages, resets, state changes,
 * errors — so tests assert on what the app saw. An optional handler runs inside the message
 * listener (before the message is recorded as handled): it may be async or throw.
 */
export class SessionRecorder<T = unknown> {
  /** Messages whose handler completed, in order. */
  readonly handled: ClientMessage<T>[] = [];
  /** Every call of the message listener, including ones that threw. */
  readonly calls: number[] = [];
  readonly resets: ResetPayload[] = [];
  readonly states: StateChange[] = [];
  readonly errors: HoldfastClientError[] = [];

  constructor(
    readonly session: HoldfastSession<T>,
    handler?: (message: ClientMessage<T>) => void | Promise<void>,
  ) {
    session.on('message', async (message) => {
      this.calls.push(message.offset);
      await handler?.(message);
      this.handled.push(message);
    });
    session.on('reset', (reset) => void this.resets.push(reset));
    session.on('state', (change) => void this.states.push(change));
    session.on('error', (error) => void this.errors.push(error));
  }

  get lastOffset(): number {
    return this.handled.at(-1)?.offset ?? 0;
  }

  async waitForOffset(offset: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(() => this.lastOffset >= offset, {
      timeoutMs,
      what: `the app to handle offset ${offset}`,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; now ${this.describe()}`);
    });
  }

  async waitForState(state: SessionState, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.session.state === state, { timeoutMs, what: `state ${state}` }).catch(
      (error: Error) => {
        throw new Error(`${error.message}; now ${this.describe()}`);
      },
    );
  }

  /** What the app has seen so far, for failure messages. */
  describe(): string {
    const states = this.states.map((s) => `${s.state}:${s.reason ?? ''}`).join(', ');
    const errors = this.errors.map((e) => `${e.code}: ${e.message}`).join('; ');
    return `state ${this.session.state}, handled up to ${this.lastOffset}, states [${states}], errors [${errors}]`;
  }

  /** The app handled offsets first..last, each exactly once, in order. */
  expectExactlyOnce(first: number, last: number): void {
    assertContiguous(this.handled, first, last);
  }
}
