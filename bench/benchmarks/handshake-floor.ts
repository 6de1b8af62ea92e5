import type { BenchChild } from '../lib/ipc.js';
import type { Progress } from '../lib/progress.js';
import { CpuMeter, listenOverflows } from '../lib/proc-stats.js';
import { nowMicros, waitUntil } from '../lib/stats.js';
import type { Row } from '../results.js';
import { RowBuilder } from './row-builder.js';

/** A plain storm of a few thousand handshakes takes seconds: a minute means one never completed. */
const STORM_TIMEOUT_MS = 60_000;

export interface HandshakeFloorRun {
  readonly progress: Progress;
  /** The load-client process the Holdfast storm used (its Holdfast clients are closed here). */
  readonly clients: BenchChild;
  /** A plain Socket.IO server (bench/systems/socketio-server.ts, MODE plain). */
  readonly server: { readonly child: BenchChild; readonly url: string };
  readonly sessions: number;
  readonly repeats: number;
  readonly params: Record<string, string | number>;
  /** Names the condition in the progress lines. */
  readonly label: string;
}

/**
 * The resume storm's handshake floor: the same load clients, connected to a plain Socket.IO
 * server, disconnect and then all reconnect at once, as the Holdfast storm's do (the same
 * `reconnect` call, so the same client kind and concurrency), with nothing to replay. Timed
 * from the start until every client's Socket.IO CONNECT is acknowledged: what any WebSocket
 * server pays before its first replayed message, and what the XRANGE floor never pays.
 */
export async function handshakeFloor(run: HandshakeFloorRun): Promise<Row> {
  const { progress, clients, server, sessions } = run;
  const row = new RowBuilder(
    'resume-storm',
    'socket.io',
    `${sessions.toLocaleString('en-US')} clients connect at once, no replay`,
    run.params,
  );
  row.notes.push(
    'already-connected clients disconnect, then all reconnect at once (like the Holdfast storm); ' +
      'time until every Socket.IO CONNECT is acknowledged',
  );
  // Connected first as the Holdfast clients were (100 at a time), so the storm below reconnects
  // clients that had a connection, like for like. This closes the Holdfast clients.
  await clients.call('connect', { system: 'plain', url: server.url, count: sessions });
  for (let rep = 0; rep < run.repeats; rep++) {
    progress.step(`${run.label} · socket.io handshake floor · run ${rep + 1}`);
    await clients.call('disconnect');
    // The Holdfast storm's edges had seconds (the backlog, the XRANGE floor) to see every close;
    // here the server must have seen them too, or the storm also pays for the teardown.
    await waitUntil(
      async () => (await server.child.call<number>('connections')) === 0,
      'the plain server to see the closes',
      STORM_TIMEOUT_MS,
      20,
    );
    const meter = new CpuMeter({ server: server.child.pid, clients: clients.pid });
    meter.start();
    const overflows0 = listenOverflows();
    const t0 = nowMicros();
    await within(clients.call('reconnect', { url: server.url }), STORM_TIMEOUT_MS, 'the handshake storm');
    const seconds = (nowMicros() - t0) / 1e6;
    const cpu = meter.stop();
    const overflows = listenOverflows() - overflows0;
    // Every client must have reached this server: a storm that connected fewer is no floor.
    const connected = await server.child.call<number>('connections');
    if (connected !== sessions) throw new Error(`handshake floor: ${connected} of ${sessions} connected`);
    row.add({
      connectSeconds: seconds,
      connectsPerSec: sessions / seconds,
      serverCpuUsPerConnect: (cpu.server ?? 0) / sessions,
      clientsCpuUsPerConnect: (cpu.clients ?? 0) / sessions,
      listenOverflows: overflows,
    });
    progress.stepDone(
      `${seconds.toFixed(2)} s for ${sessions} handshakes, CPU s server ${((cpu.server ?? 0) / 1e6).toFixed(2)} · clients ${((cpu.clients ?? 0) / 1e6).toFixed(2)}, listen overflows ${overflows}`,
    );
  }
  return row.build();
}

/** The clients' own wait is 30 minutes (sized for Holdfast's replay); a plain storm gets a minute. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`handshake floor: ${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
