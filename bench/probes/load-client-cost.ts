/**
 * Measurement, not a test: what each load-client kind costs per message, with nothing else of
 * the bench running beside it. One plain Socket.IO server process (bench/systems/socketio-server.ts)
 * emits closed loop (at most 20,000 undelivered) to `sessions` clients; a fresh load-client
 * process of each kind (raw, socket.io-client) takes its turn, kinds alternating within each
 * repeat so they share the machine's noise. Plain Socket.IO sends one frame per message, so
 * this is the per-frame cost a client adds to the two shared cores.
 *
 * Prints, per repeat and kind, delivered msg/s and the CPU per delivered message (user +
 * system, /proc) of the client process and of the server process.
 *
 *   node --conditions=source --import tsx bench/probes/load-client-cost.ts [seconds=4] [sessions=100] [repeats=2]
 */
import { BenchChild } from '../lib/ipc.js';
import { cpuMicros, loadAverage } from '../lib/proc-stats.js';
import { BenchRedis } from '../lib/redis.js';
import { sleep } from '../lib/stats.js';
import { startSocketIo } from '../lib/systems.js';
import { LOAD_CLIENT_KINDS } from '../load/load-socket.js';
import type { TrackerSnapshot } from '../load/session-tracker.js';

const seconds = Number(process.argv[2] ?? 4);
const sessions = Number(process.argv[3] ?? 100);
const repeats = Number(process.argv[4] ?? 2);
/** Discarded before each window: the first second through fresh code runs unoptimised. */
const WARM_MS = 1500;
const CAP = 20_000;

// The plain peer needs no Redis, but its start-up takes a URL; this one is never written to.
const redis = await BenchRedis.start('everysec');
const systems = { placement: {}, cpuProfDir: undefined, source: false, loadClient: 'raw' as const };
const server = await startSocketIo('plain', redis.url, systems);
try {
  console.log(
    `plain Socket.IO, ${sessions} sessions, closed loop, ${seconds} s windows; load ${loadAverage()}`,
  );
  for (let rep = 1; rep <= repeats; rep++) {
    for (const kind of LOAD_CLIENT_KINDS) {
      const clients = await BenchChild.start({
        name: `clients-${kind}`,
        main: 'bench/load/clients.ts',
        env: { LOAD_CLIENT: kind },
      });
      try {
        const running = await clients.call<string>('kind');
        await clients.call('connect', { system: 'plain', url: server.url, count: sessions });
        clients.on('delivered', (delivered) => server.child.notify('credit', delivered));
        await clients.call('report', { everyMs: 5 });
        await server.child.call('start', { pattern: 'emit', sessions, cap: CAP });
        await sleep(WARM_MS);
        const before = await clients.call<TrackerSnapshot>('snapshot');
        const cpu0 = { client: cpuMicros(clients.pid), server: cpuMicros(server.child.pid) };
        await sleep(seconds * 1000);
        const after = await clients.call<TrackerSnapshot>('snapshot');
        const cpu1 = { client: cpuMicros(clients.pid), server: cpuMicros(server.child.pid) };
        await server.child.call('stop', {});
        const n = after.delivered - before.delivered;
        const perMsg = (us: number): string => (n > 0 ? (us / n).toFixed(1) : '–');
        console.log(
          `run ${rep} ${running.padEnd(16)} ${Math.round(n / seconds).toLocaleString('en-US')} msg/s · ` +
            `client ${perMsg(cpu1.client - cpu0.client)} µs/msg · server ${perMsg(cpu1.server - cpu0.server)} µs/msg · ` +
            `load ${loadAverage()}`,
        );
      } finally {
        await clients.stop(3000);
      }
    }
  }
} finally {
  await server.child.stop(3000);
  await redis.destroy();
}
// ioredis reconnect timers of the stopped children's links must not keep the probe up.
process.exit(0);
