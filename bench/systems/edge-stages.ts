import type { EdgeServer } from '@holdfast/edge';
import type { StageRecorder } from '../lib/stages.js';
import { intendedTimes } from '../lib/stages.js';
import { nowMicros } from '../lib/stats.js';

/** Stage names the edge records, from each message's intended send time. */
export const EDGE_STAGES = {
  notified: 'intended → edge notified',
  written: 'intended → frame written',
} as const;

/** The parts of an edge this reads (private to EdgeServer: a bench may look, product code not). */
interface EdgeInternals {
  readonly live: {
    readonly redis: {
      prependListener(event: 'smessage', listener: (channel: string, message: string) => void): void;
    };
  };
  readonly io: {
    readonly engine: {
      on(
        event: 'connection',
        listener: (socket: {
          on(event: 'packetCreate', f: (packet: { data?: unknown }) => void): void;
        }) => void,
      ): void;
    };
  };
}

/**
 * Stamps, inside a bench edge, when each message's live notification arrives from Redis and
 * when the frame carrying it is handed to its socket, both from the message's intended send
 * time (the monotonic clock every bench process shares). Reads the edge's own objects from
 * outside (its live connection's `smessage` events, engine.io's `packetCreate`), so the
 * product code carries no bench hook; parsing every notification costs the edge CPU, so it
 * runs only while `enabled()` says so (the latency benchmark, not the throughput one).
 */
export function recordEdgeStages(edge: EdgeServer, stages: StageRecorder, enabled: () => boolean): void {
  const { live, io } = (edge as unknown as { parts: EdgeInternals }).parts;
  live.redis.prependListener('smessage', (_channel, message) => {
    if (!enabled()) return;
    const now = nowMicros();
    for (const intended of intendedTimes(message)) stages.record(EDGE_STAGES.notified, now - intended);
  });
  io.engine.on('connection', (socket) => {
    socket.on('packetCreate', (packet) => {
      if (!enabled() || typeof packet.data !== 'string') return;
      const now = nowMicros();
      for (const intended of intendedTimes(packet.data)) stages.record(EDGE_STAGES.written, now - intended);
    });
  });
}
