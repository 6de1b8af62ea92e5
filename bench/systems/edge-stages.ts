import type { EdgeServer } from '@holdfast/edge';
import type { StageRecorder } from '../lib/stages.js';
import { intendedTimes } from '../lib/stages.js';
import { nowMicros } from '../lib/stats.js';

/** Stage names the edge records, from each message's intended send time. */
export const EDGE_STAGES = {
  notified: 'intended → edge notified',
  written: 'intended → frame written',
} as const;

/** An engine.io connection, as far as this needs it. */
interface EngineSocket {
  on(event: 'packetCreate', f: (packet: { data?: unknown }) => void): void;
}

/** The parts of an edge this reads (private to EdgeServer: a bench may look, product code not). */
interface EdgeInternals {
  readonly live: {
    readonly redis: {
      prependListener(event: 'smessage', listener: (channel: string, message: string) => void): void;
    };
  };
  readonly io: {
    readonly engine: {
      readonly clients: Record<string, EngineSocket>;
      on(event: 'connection', listener: (socket: EngineSocket) => void): void;
    };
  };
}

/**
 * Stamps, inside a bench edge, when each message's live notification arrives from Redis and
 * when the frame carrying it is handed to its socket, both from the message's intended send
 * time (the monotonic clock every bench process shares). Reads the edge's own objects from
 * outside (its live connection's `smessage` events, engine.io's `packetCreate`), so the
 * product code carries no bench hook; parsing every notification costs the edge CPU, so it
 * runs only while tracing (the latency benchmark, not the throughput one). The `packetCreate`
 * listener is added to a connection only once tracing is on: a listener per connection costs
 * an idle connection about 150 bytes of heap, which the idle benchmarks would count against
 * the edge. Returns the switch.
 */
export function recordEdgeStages(edge: EdgeServer, stages: StageRecorder): (tracing: boolean) => void {
  const { live, io } = (edge as unknown as { parts: EdgeInternals }).parts;
  let enabled = false;
  live.redis.prependListener('smessage', (_channel, message) => {
    if (!enabled) return;
    const now = nowMicros();
    for (const intended of intendedTimes(message)) stages.record(EDGE_STAGES.notified, now - intended);
  });
  const onPacket = (packet: { data?: unknown }): void => {
    if (!enabled || typeof packet.data !== 'string') return;
    const now = nowMicros();
    for (const intended of intendedTimes(packet.data)) stages.record(EDGE_STAGES.written, now - intended);
  };
  const traced = new WeakSet<EngineSocket>();
  const trace = (socket: EngineSocket): void => {
    if (traced.has(socket)) return;
    traced.add(socket);
    socket.on('packetCreate', onPacket);
  };
  io.engine.on('connection', (socket) => {
    if (enabled) trace(socket);
  });
  return (tracing) => {
    enabled = tracing;
    if (tracing) for (const socket of Object.values(io.engine.clients)) trace(socket);
  };
}
