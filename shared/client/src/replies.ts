/** A worker's `reply` envelope, as the session emits it (`reply` event). */
export interface ReplyEvent<R = unknown> {
  /** The client's id of the inbound message this answers. */
  readonly messageId: string;
  /** 1, 2, …: a higher attempt supersedes what earlier attempts published. */
  readonly attempt: number;
  /** Exactly what the handler published. */
  readonly data: R;
  readonly epoch: string;
  readonly offset: number;
}

/** Attempt `attempt` of `messageId` was cut short: discard its replies (and earlier attempts'). */
export interface AttemptAbortedEvent {
  readonly messageId: string;
  readonly attempt: number;
  readonly epoch: string;
  readonly offset: number;
}

/** `messageId` was given up on (dead-lettered): no (further) reply comes for it. */
export interface InboundErrorEvent {
  readonly messageId: string;
  /** `handler_failed`. */
  readonly code: string;
  /** The last attempt's error message (at most 1,000 characters). */
  readonly message: string;
  /** How many attempts were started. */
  readonly attempts: number;
  readonly epoch: string;
  readonly offset: number;
}

/** The reply to one inbound message as it stands. */
export interface AssembledReply<R = unknown> {
  readonly messageId: string;
  /** The attempt whose replies `parts` holds (after an abort: the next one, before it published). */
  readonly attempt: number;
  /** The current attempt's replies, in log order. */
  readonly parts: readonly R[];
  /** The current attempt published a part for which `isFinal` is true. */
  readonly complete: boolean;
  /** Set when the message was given up on (`inbound_error`). */
  readonly error?: { readonly code: string; readonly message: string; readonly attempts: number };
  /** Attempts that were aborted (from `attempt_aborted`, or implied by a higher attempt's reply). */
  readonly abortedAttempts: readonly number[];
}

export interface ReplyAssemblerOptions<R> {
  /** True for the part that completes a reply (for the example agent: `data.type === 'final'`). */
  readonly isFinal: (data: R) => boolean;
  /** Called after every change of a message's reply (parts added or discarded, completed, failed). */
  readonly onChange?: (reply: AssembledReply<R>) => void;
}

/** What `attach` needs: a session's `on` for the three reply events and `reset`. */
export interface ReplySource<R> {
  on(event: 'reply', listener: (event: ReplyEvent<R>) => void): () => void;
  on(event: 'attempt_aborted', listener: (event: AttemptAbortedEvent) => void): () => void;
  on(event: 'inbound_error', listener: (event: InboundErrorEvent) => void): () => void;
  on(event: 'reset' | 'complete', listener: () => void): () => void;
}

export interface ReplyAssembler<R> {
  /** Feeds it from a session (and clears it on `reset`); returns a function that detaches it. */
  attach(session: ReplySource<R>): () => void;
  reply(event: ReplyEvent<R>): void;
  attemptAborted(event: AttemptAbortedEvent): void;
  inboundError(event: InboundErrorEvent): void;
  get(messageId: string): AssembledReply<R> | undefined;
  /** Every message seen, in the order of their first envelope. */
  all(): Array<AssembledReply<R>>;
  /**
   * Resolves once the message's reply is complete or it failed. (A later `attempt_aborted` can
   * still reopen a completed reply, e.g. after a worker died before recording it as handled;
   * `get` and `onChange` always show the current state.)
   */
  settled(messageId: string): Promise<AssembledReply<R>>;
  /**
   * The session completed: nothing more will arrive, so every reply still open fails with
   * `session_completed` (and `settled` of any id resolves at once). Attached, `complete` does this.
   */
  sessionCompleted(): void;
  /** Forgets everything (the session's `reset` does this when attached). */
  clear(): void;
}

interface State<R> {
  messageId: string;
  attempt: number;
  parts: R[];
  complete: boolean;
  error?: { code: string; message: string; attempts: number };
  abortedAttempts: number[];
  /** Replies of attempts up to this one are discarded. */
  abortedUpTo: number;
}

/**
 * Builds "exactly one complete reply per message" from worker envelopes: collects each
 * message's replies of its current attempt, discards an attempt's replies when it is aborted
 * (an `attempt_aborted`, or a reply of a higher attempt), and tells when a reply is complete
 * (`isFinal`) or failed (`inbound_error`).
 */
export function createReplyAssembler<R = unknown>(options: ReplyAssemblerOptions<R>): ReplyAssembler<R> {
  const states = new Map<string, State<R>>();
  /** Set once the session completed: replies still open never finish. */
  let ended = false;
  const endedError = (attempts: number) => ({
    code: 'session_completed',
    message: 'the session completed before this reply did',
    attempts,
  });
  const waiters = new Map<string, Array<(reply: AssembledReply<R>) => void>>();

  const stateOf = (messageId: string): State<R> => {
    let state = states.get(messageId);
    if (!state) {
      state = { messageId, attempt: 1, parts: [], complete: false, abortedAttempts: [], abortedUpTo: 0 };
      states.set(messageId, state);
    }
    return state;
  };
  const snapshot = (s: State<R>): AssembledReply<R> => ({
    messageId: s.messageId,
    attempt: s.attempt,
    parts: [...s.parts],
    complete: s.complete,
    ...(s.error ? { error: { ...s.error } } : {}),
    abortedAttempts: [...s.abortedAttempts],
  });
  const changed = (s: State<R>): void => {
    const reply = snapshot(s);
    options.onChange?.(reply);
    if (!s.complete && !s.error) return;
    const list = waiters.get(s.messageId);
    waiters.delete(s.messageId);
    for (const resolve of list ?? []) resolve(reply);
  };
  const abortUpTo = (s: State<R>, attempt: number): void => {
    for (let a = s.abortedUpTo + 1; a <= attempt; a++) {
      if (!s.abortedAttempts.includes(a)) s.abortedAttempts.push(a);
    }
    s.abortedUpTo = Math.max(s.abortedUpTo, attempt);
    s.attempt = Math.max(s.attempt, attempt + 1);
    s.parts = [];
    s.complete = false;
  };

  const assembler: ReplyAssembler<R> = {
    attach(session) {
      const offs = [
        session.on('reply', (event) => assembler.reply(event)),
        session.on('attempt_aborted', (event) => assembler.attemptAborted(event)),
        session.on('inbound_error', (event) => assembler.inboundError(event)),
        session.on('reset', () => assembler.clear()),
        session.on('complete', () => assembler.sessionCompleted()),
      ];
      return () => offs.forEach((off) => off());
    },
    reply({ messageId, attempt, data }) {
      const s = stateOf(messageId);
      if (attempt <= s.abortedUpTo || attempt < s.attempt) return; // of a discarded attempt
      // A higher attempt without a marker: the earlier ones were cut short all the same.
      if (attempt > s.attempt) abortUpTo(s, attempt - 1);
      s.attempt = attempt;
      s.parts.push(data);
      if (options.isFinal(data)) s.complete = true;
      changed(s);
    },
    attemptAborted({ messageId, attempt }) {
      const s = stateOf(messageId);
      if (attempt <= s.abortedUpTo) return;
      abortUpTo(s, attempt);
      changed(s);
    },
    inboundError({ messageId, code, message, attempts }) {
      const s = stateOf(messageId);
      s.error = { code, message, attempts };
      changed(s);
    },
    get(messageId) {
      const s = states.get(messageId);
      return s && snapshot(s);
    },
    all() {
      return [...states.values()].map(snapshot);
    },
    sessionCompleted() {
      ended = true;
      for (const s of states.values()) {
        if (s.complete || s.error) continue;
        s.error = endedError(s.attempt);
        changed(s);
      }
    },
    settled(messageId) {
      const s = states.get(messageId);
      if (s && (s.complete || s.error)) return Promise.resolve(snapshot(s));
      if (ended) {
        const closed = stateOf(messageId);
        closed.error = endedError(closed.attempt);
        return Promise.resolve(snapshot(closed));
      }
      return new Promise((resolve) => waiters.set(messageId, [...(waiters.get(messageId) ?? []), resolve]));
    },
    clear() {
      states.clear();
    },
  };
  return assembler;
}
