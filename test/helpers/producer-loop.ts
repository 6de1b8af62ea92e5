import type { SessionLog } from '@holdfast/session-log';

export interface ProducerLoop {
  /** Stop after the current round; resolves with how many messages each session got. */
  stop(): Promise<Map<string, number>>;
}

/**
 * A steady producer for failover tests: every `tickMs`, appends `perTick` messages numbered
 * `{ n: 1, 2, 3, … }` to each session (so offset n carries n), until stopped.
 */
export function startProducer(log: SessionLog, sessionIds: string[], perTick = 5, tickMs = 20): ProducerLoop {
  const counts = new Map(sessionIds.map((s) => [s, 0]));
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        sessionIds.map(async (sessionId) => {
          const from = counts.get(sessionId) ?? 0;
          await log.appendBatch(
            sessionId,
            Array.from({ length: perTick }, (_, i) => ({ data: { n: from + i + 1 } })),
          );
          counts.set(sessionId, from + perTick);
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, tickMs)); // the producer's pace
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return counts;
    },
  };
}
