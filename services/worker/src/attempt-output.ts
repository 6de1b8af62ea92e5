/**
 * What one attempt at an inbound message has written to the session's log: the epoch its
 * output went to. Every later step of the attempt (the next publish, the final `done`) is
 * checked against it by the inbox (lua/inbox-step-2.lua): after a Redis data loss (a restore, a
 * cut AOF, a failover) the restored inbox can still name this run as the message's owner while
 * the output is gone with the old epoch, and settling the message then would leave it
 * acknowledged and never answered.
 */
export class AttemptOutput {
  /** The epoch of the attempt's first write, once it wrote something. */
  epoch: string | undefined;
  /** Set once a step or an append found the session in another epoch: the attempt is void. */
  rewoundTo: string | undefined;

  /** Record the epoch an append landed in; throws when it is not the attempt's own. */
  landedIn(epoch: string): void {
    if (this.epoch === undefined) this.epoch = epoch;
    else if (epoch !== this.epoch) this.rewound(epoch);
  }

  /** The attempt's output may be lost: mark the attempt void and stop it. */
  rewound(epoch: string): never {
    this.rewoundTo = epoch;
    throw new AttemptRewoundError(this.epoch ?? '', epoch);
  }
}

/**
 * The session's epoch changed under an attempt that had already written output: Redis lost data
 * since, possibly that output. Nothing more is written for the attempt; the run takes the
 * message again as a new attempt (whose `attempt_aborted` marker tells the app to drop whatever
 * of the old attempt it received).
 */
export class AttemptRewoundError extends Error {
  override readonly name = 'AttemptRewoundError';

  constructor(
    readonly fromEpoch: string,
    readonly toEpoch: string,
  ) {
    super(
      `the session's epoch changed from ${fromEpoch} to ${toEpoch} after this attempt wrote output ` +
        '(Redis lost data); the message runs again as a new attempt',
    );
  }
}
