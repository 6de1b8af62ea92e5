/**
 * The producer process for the durable systems: Holdfast's append path (the SessionLog the API
 * and producer library use) and the raw ioredis XADD floor, side by side in one process so both
 * get the same CPU. Env: REDIS_URL.
 */
import { Redis } from 'ioredis';
import { SessionLog, type AppendTrace } from '@holdfast/session-log';
import { serve } from '../lib/ipc.js';
import { StageRecorder } from '../lib/stages.js';
import { ProducerDriver, type RunSpec, type Sink } from './producer-driver.js';

const redisUrl = process.env.REDIS_URL ?? '';
/** Stream length kept by both: Holdfast's retention and the raw floor's MAXLEN ~. */
const KEEP = Number(process.env.KEEP_MESSAGES ?? 10_000);
/** Per-stage trace of every append (append-trace.ts): only for the latency benchmark. */
const TRACE = process.env.TRACE_APPENDS === '1';
/** Stage names of the producer's part of the stage table. */
const PRODUCER_STAGES = {
  call: 'intended → append call',
  sent: 'append call → script sent',
  reply: 'script sent → reply',
  resolved: 'reply → caller resolved',
} as const;
const stages = new StageRecorder();
const recordTrace = (trace: AppendTrace): void => {
  stages.record(PRODUCER_STAGES.sent, (trace.sentAt - trace.calledAt) * 1000);
  stages.record(PRODUCER_STAGES.reply, (trace.repliedAt - trace.sentAt) * 1000);
  stages.record(PRODUCER_STAGES.resolved, (trace.resolvedAt - trace.repliedAt) * 1000);
};
// A long command timeout: writing gigabytes of AOF while other work shares the disk can stall
// Redis for seconds, and a timed-out append without an id cannot be retried without a duplicate.
const log = new SessionLog({
  redis: redisUrl,
  retention: { maxMessages: KEEP, maxAgeMs: 0 },
  commandTimeoutMs: 120_000,
  ...(TRACE ? { appendTrace: recordTrace } : {}),
});
const raw = new Redis(redisUrl);
let sessionIds: string[] = [];

const rawKey = (session: number): string => `raw:{${session}}`;

const holdfastSink: Sink = {
  send: (session, payload) => log.append(sessionIds[session] as string, payload),
  sendMany: (session, payloads) =>
    log.appendBatch(
      sessionIds[session] as string,
      payloads.map((data) => ({ data })),
    ),
};
const rawSink: Sink = {
  send: (session, payload) => raw.xadd(rawKey(session), 'MAXLEN', '~', KEEP, '*', 'd', payload),
  sendPipeline: (items) => {
    const pipeline = raw.pipeline();
    for (const [session, payload] of items)
      pipeline.xadd(rawKey(session), 'MAXLEN', '~', KEEP, '*', 'd', payload);
    return pipeline.exec();
  },
};
const drivers = {
  holdfast: new ProducerDriver(holdfastSink, (late) => stages.record(PRODUCER_STAGES.call, late)),
  raw: new ProducerDriver(rawSink),
};
type SinkName = keyof typeof drivers;

await log.ready();
// SIGTERM from the runner: exit through process.exit so a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));

serve({
  /** Create sessions `${prefix}0..count-1` (retention as given) and use them from now on. */
  create: async ({ prefix, count, keep }: { prefix: string; count: number; keep?: number }) => {
    sessionIds = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    for (let i = 0; i < count; i += 200) {
      await Promise.all(
        sessionIds
          .slice(i, i + 200)
          .map((id) => log.createSession(id, { retention: { maxMessages: keep ?? KEEP, maxAgeMs: 0 } })),
      );
    }
    return sessionIds.length;
  },
  start: ({ sink, ...spec }: RunSpec & { sink: SinkName }) => drivers[sink].start(spec),
  counts: ({ sink }: { sink: SinkName }) => drivers[sink].counts(),
  resetLatency: ({ sink }: { sink: SinkName }) => {
    stages.reset();
    drivers[sink].resetLatency();
  },
  /** The stage table's producer rows and this process's event loop since resetLatency. */
  stages: () => stages.read(),
  stop: ({ sink }: { sink: SinkName }) => drivers[sink].stop(),
  credit: (delivered: number) => drivers.holdfast.credit(delivered),
  /** Append `perSession` messages to each of the first `sessions` sessions, in batches (setup, not measured). */
  backlog: async ({
    sessions,
    perSession,
    batch,
  }: {
    sessions: number;
    perSession: number;
    batch: number;
  }) => {
    const driver = drivers.holdfast;
    const work = Array.from({ length: sessions }, (_, s) => s);
    const appendOne = async (s: number): Promise<void> => {
      for (let done = 0; done < perSession; done += batch) {
        const n = Math.min(batch, perSession - done);
        const payloads = Array.from({ length: n }, () => driver.payloadFor(s));
        await log.appendBatch(
          sessionIds[s] as string,
          payloads.map((data) => ({ data })),
        );
      }
    };
    // A few sessions at a time keeps group commit busy without a huge pending queue.
    for (let i = 0; i < work.length; i += 50) await Promise.all(work.slice(i, i + 50).map(appendOne));
    return sessions * perSession;
  },
  /** Sequence numbers sent so far per session (what the clients must end up with). */
  sent: ({ sink }: { sink?: SinkName }) => drivers[sink ?? 'holdfast'].sentPerSession(),
  /** The XRANGE floor: read every message of the first `sessions` logs, COUNT per call, pipelined. */
  xrange: async ({ sessions, count }: { sessions: number; count: number }) => {
    const keys = sessionIds.slice(0, sessions).map((id) => log.keys(id).log);
    const cursors = keys.map(() => '-');
    let entries = 0;
    let active = keys.map((_, i) => i);
    const started = process.hrtime.bigint();
    while (active.length > 0) {
      const pipeline = raw.pipeline();
      for (const i of active) pipeline.xrange(keys[i] as string, cursors[i] as string, '+', 'COUNT', count);
      const replies = (await pipeline.exec()) ?? [];
      const next: number[] = [];
      replies.forEach(([error, reply], j) => {
        if (error) throw error;
        const i = active[j] as number;
        const rows = reply as Array<[string, string[]]>;
        entries += rows.length;
        const last = rows.at(-1);
        if (rows.length === count && last) {
          cursors[i] = `(${last[0]}`;
          next.push(i);
        }
      });
      active = next;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { entries, seconds };
  },
});
