import { BenchChild } from '../lib/ipc.js';
import { CpuMeter } from '../lib/proc-stats.js';
import { BenchRedis, commandDelta, type Fsync } from '../lib/redis.js';
import { nowMicros, sleep } from '../lib/stats.js';
import { startClients, startEdge, startProducer, startSocketIo, stopAll } from '../lib/systems.js';
import type { TrackerSnapshot } from '../load/session-tracker.js';
import type { Pattern, RunCounts, RunSpec } from '../systems/producer-driver.js';
import type { BenchContext } from './context.js';
import { collectStages } from './stage-figures.js';

/** One system as the delivery benchmarks drive it: its producer, its clients, its server processes. */
export interface DeliveryPeer {
  readonly peer: 'socket.io' | 'socket.io-recovery' | 'socket.io-adapter' | 'holdfast';
  readonly pattern: Pattern;
  readonly producer: BenchChild;
  /** Which of the producer process's sinks (Holdfast's producer has two). */
  readonly sink?: 'holdfast';
  readonly clients: BenchChild;
  readonly clientUrl: string;
  readonly system: 'plain' | 'recovery' | 'holdfast';
  /** Processes whose CPU is the server's cost per message. */
  readonly serverPids: Record<string, number>;
  /** Holdfast: the edge process (its share of the stage table). */
  readonly edge?: BenchChild;
}

export interface DeliverySetup {
  readonly redis: BenchRedis;
  readonly peers: DeliveryPeer[];
  readonly sessionIds: string[];
  stop(): Promise<void>;
}

/**
 * Redis (with `fsync`), a Holdfast edge and producer, the Socket.IO peers and one load client
 * process per system, with `sessions` Holdfast sessions created.
 */
export async function startDeliveryPeers(
  ctx: BenchContext,
  fsync: Fsync,
  sessions: number,
  patterns: readonly Pattern[],
  /** Record per-message stages (the latency benchmark: the trace costs the producer and edge CPU). */
  traceStages = false,
  /**
   * Also Socket.IO with its producer in another process, through @socket.io/redis-adapter
   * (`socket.io-adapter`): Holdfast's topology without durability, for the open-loop benchmarks,
   * where it tells what three hops cost on this host apart from what durability costs.
   */
  withAdapterPeer = false,
): Promise<DeliverySetup> {
  const redis = await BenchRedis.start(fsync, ctx.systems.placement.redis);
  const children: BenchChild[] = [];
  try {
    // Started together: each is a Node process compiling TypeScript, seconds apiece on a busy box.
    const started = await Promise.allSettled([
      startProducer(redis.url, ctx.systems, undefined, traceStages),
      startEdge('edge-a', redis.url, ctx.systems),
      startSocketIo('plain', redis.url, ctx.systems),
      startSocketIo('recovery', redis.url, ctx.systems),
      startClients('clients-holdfast', ctx.systems),
      startClients('clients-plain', ctx.systems),
      startClients('clients-recovery', ctx.systems),
      ...(withAdapterPeer
        ? [
            startSocketIo('adapter', redis.url, ctx.systems),
            startSocketIo('adapter-producer', redis.url, ctx.systems),
            startClients('clients-adapter', ctx.systems),
          ]
        : []),
    ]);
    for (const s of started) {
      if (s.status === 'fulfilled') children.push(s.value instanceof BenchChild ? s.value : s.value.child);
    }
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const value = <T>(i: number): T => (started[i] as PromiseFulfilledResult<T>).value;
    const producer = value<BenchChild>(0);
    const edge = value<{ child: BenchChild; url: string }>(1);
    const plain = value<{ child: BenchChild; url: string }>(2);
    const recovery = value<{ child: BenchChild; url: string }>(3);
    const [cHoldfast, cPlain, cRecovery] = [value<BenchChild>(4), value<BenchChild>(5), value<BenchChild>(6)];
    const prefix = 'u';
    await producer.call('create', { prefix, count: sessions });
    const sessionIds = Array.from({ length: sessions }, (_, i) => `${prefix}${i}`);
    const peers: DeliveryPeer[] = [];
    if (patterns.includes('emit')) {
      peers.push({
        peer: 'socket.io',
        pattern: 'emit',
        producer: plain.child,
        clients: cPlain,
        clientUrl: plain.url,
        system: 'plain',
        serverPids: { server: plain.child.pid },
      });
      peers.push({
        peer: 'socket.io-recovery',
        pattern: 'emit',
        producer: recovery.child,
        clients: cRecovery,
        clientUrl: recovery.url,
        system: 'recovery',
        serverPids: { server: recovery.child.pid },
      });
      if (withAdapterPeer) {
        const adapter = value<{ child: BenchChild; url: string }>(7);
        const adapterProducer = value<{ child: BenchChild; url: string }>(8);
        peers.push({
          peer: 'socket.io-adapter',
          pattern: 'emit',
          producer: adapterProducer.child,
          clients: value<BenchChild>(9),
          clientUrl: adapter.url,
          system: 'plain',
          serverPids: { server: adapter.child.pid, producer: adapterProducer.child.pid },
        });
      }
    }
    for (const pattern of patterns.filter((p) => p !== 'emit')) {
      peers.push({
        peer: 'holdfast',
        pattern,
        producer,
        sink: 'holdfast',
        clients: cHoldfast,
        clientUrl: edge.url,
        system: 'holdfast',
        edge: edge.child,
        serverPids: { edge: edge.child.pid, producer: producer.pid },
      });
    }
    return {
      redis,
      peers,
      sessionIds,
      stop: async () => {
        await stopAll(children);
        await redis.destroy();
      },
    };
  } catch (error) {
    await stopAll(children);
    await redis.destroy();
    throw error;
  }
}

/** Connect `sessions` clients of every distinct client process to its system. */
export async function connectPeers(setup: DeliverySetup, sessions: number): Promise<void> {
  const seen = new Set<BenchChild>();
  for (const p of setup.peers) {
    if (seen.has(p.clients)) continue;
    seen.add(p.clients);
    await p.clients.call('connect', {
      system: p.system,
      url: p.clientUrl,
      count: sessions,
      sessionIds: setup.sessionIds,
    });
  }
}

export interface DeliveryFigures {
  /** Delivered messages per second, counted at the clients. */
  readonly msgPerSec: number;
  readonly serverCpuUsPerMsg: number;
  readonly redisCpuUsPerMsg: number;
  readonly clientCpuUsPerMsg: number;
  readonly redisCmdsPerMsg: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Open loop, durable peers: intended send time to append acknowledged (NaN otherwise). */
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
  readonly lost: number;
  readonly duplicates: number;
  /** The producer could not keep up with the requested rate (open loop). */
  readonly saturated: number;
  readonly errors: number;
  /**
   * Holdfast, open loop: the stage table's figures (stage-figures.ts), flattened. Every peer:
   * each process's CPU share and main-thread run-queue wait in the window (`sched:<process>:…`,
   * `sched:machine:busyPct`), the evidence for where a tail goes on a shared two-core host.
   */
  readonly [stage: `stage:${string}` | `loop:${string}` | `sched:${string}`]: number;
}

/** How long to wait after the producer stops for everything sent to arrive. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * One measurement: start the producer (closed loop, or open loop at `spec.rate`), discard the
 * warm-up, measure for the profile's window, stop, wait for every message sent to arrive, and
 * count loss and duplicates per session by sequence number.
 */
export async function measureDelivery(
  ctx: BenchContext,
  setup: DeliverySetup,
  p: DeliveryPeer,
  spec: RunSpec,
): Promise<DeliveryFigures> {
  const sinkArgs = p.sink ? { sink: p.sink } : {};
  // Token streams are open loop too, each token with its intended time; the fixed-rate runs
  // (unicast-latency) carry the stage trace, token streams only when asked (--trace-stages).
  const open = spec.rate !== undefined || spec.pattern === 'tokens';
  const traced =
    p.system === 'holdfast' && (spec.rate !== undefined || (spec.pattern === 'tokens' && ctx.traceStages));
  await p.clients.call('reset');
  p.clients.on('delivered', (delivered) => p.producer.notify('credit', delivered));
  await p.clients.call('report', { everyMs: open ? 0 : 5 });
  await p.producer.call('start', { ...spec, ...sinkArgs });
  await sleep(ctx.profile.warmMs);
  // Open loop: latency counts from here. Closed loop: keep counting (the credit depends on it).
  if (open) {
    await p.clients.call('reset');
    await p.producer.call('resetLatency', sinkArgs);
    if (traced) await p.edge?.call('resetStages', { trace: true });
  }
  const meter = new CpuMeter({ ...p.serverPids, redis: setup.redis.pid, clients: p.clients.pid });
  const cmd0 = await setup.redis.commandCalls();
  const snap0 = await p.clients.call<TrackerSnapshot>('snapshot');
  meter.start();
  const t0 = nowMicros();
  await sleep(ctx.profile.measureMs);
  const snap1 = await p.clients.call<TrackerSnapshot>('snapshot');
  const usage = meter.stopWithWaits();
  const cpu = usage.cpu;
  const seconds = (nowMicros() - t0) / 1e6;
  const sched: Record<`sched:${string}`, number> = { 'sched:machine:busyPct': usage.machineBusy * 100 };
  for (const [name, used] of Object.entries(cpu)) {
    sched[`sched:${name}:cpuPct`] = used / seconds / 1e4;
    sched[`sched:${name}:waitMsPerS`] = (usage.runQueueWait[name] ?? 0) / seconds / 1000;
  }
  const cmd1 = await setup.redis.commandCalls();
  const stages = traced ? await collectStages(p) : {};
  const counts = await p.producer.call<RunCounts>('stop', sinkArgs);
  await p.clients.call('report', { everyMs: 0 });
  const { lost } = await drain(p);
  const final = await p.clients.call<TrackerSnapshot>('snapshot');
  const delivered = snap1.delivered - snap0.delivered;
  const serverCpu = Object.keys(p.serverPids).reduce((sum, name) => sum + (cpu[name] ?? 0), 0);
  const perMsg = (value: number): number => (delivered > 0 ? value / delivered : NaN);
  const commands = commandDelta(cmd0, cmd1);
  // Which commands make up the per-message figure (scripts' inner commands included): the
  // evidence for where Redis's work per message goes, printed with the step.
  const byCommand = Object.entries(commands.byCommand)
    .map(([name, calls]) => [name, perMsg(calls)] as const)
    .filter(([, perMessage]) => perMessage >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, perMessage]) => `${name} ${perMessage.toFixed(2)}`);
  if (byCommand.length > 0)
    ctx.progress.note(`Redis commands per delivered message: ${byCommand.join(', ')}`);
  return {
    msgPerSec: delivered / seconds,
    serverCpuUsPerMsg: perMsg(serverCpu),
    redisCpuUsPerMsg: perMsg(cpu.redis ?? 0),
    clientCpuUsPerMsg: perMsg(cpu.clients ?? 0),
    redisCmdsPerMsg: perMsg(commands.total),
    p50Ms: snap1.latency.p50 / 1000,
    p99Ms: snap1.latency.p99 / 1000,
    p999Ms: snap1.latency.p999 / 1000,
    ackP50Ms: (counts.ackLatency?.p50 ?? NaN) / 1000,
    ackP99Ms: (counts.ackLatency?.p99 ?? NaN) / 1000,
    lost,
    duplicates: final.duplicates,
    saturated: counts.saturated ? 1 : 0,
    errors: counts.errors,
    ...sched,
    ...stages,
  };
}

/** Wait until every session's clients have what its producer sent; what never came is lost. */
async function drain(p: DeliveryPeer): Promise<{ lost: number }> {
  const sent = await p.producer.call<number[]>('sent', p.sink ? { sink: p.sink } : {});
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const received = await p.clients.call<number[]>('received');
    // Every session the producer sent to has a client (sessions 0..n-1 are connected).
    const lost = sent.reduce((sum, n, s) => sum + Math.max(0, n - (received[s] ?? 0)), 0);
    if (lost === 0 || Date.now() > deadline) return { lost };
    await sleep(50);
  }
}
