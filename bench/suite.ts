import type { CliOptions } from './cli.js';
import type { BenchContext } from './benchmarks/context.js';
import { unicastLatency, unicastMax } from './benchmarks/unicast.js';
import { tokenStreams } from './benchmarks/token-streams.js';
import { resumeStorm } from './benchmarks/resume-storm.js';
import { slowConsumer } from './benchmarks/slow-consumer.js';
import { idleMemory } from './benchmarks/idle-memory.js';
import { persistFloor } from './benchmarks/persist-floor.js';
import { loadAverage, machineInfo } from './lib/proc-stats.js';
import { Progress } from './lib/progress.js';
import { BenchRedis } from './lib/redis.js';
import { placement } from './lib/systems.js';
import { BENCHMARKS, type BenchmarkName } from './profiles.js';
import type { SuiteResult } from './results.js';

const RUNNERS: Record<BenchmarkName, (ctx: BenchContext) => Promise<void>> = {
  'unicast-max': unicastMax,
  'unicast-latency': unicastLatency,
  'token-streams': tokenStreams,
  'resume-storm': resumeStorm,
  'slow-consumer': slowConsumer,
  'idle-memory': idleMemory,
  'persist-floor': persistFloor,
};

/**
 * Run the selected benchmarks of a profile, one after another, and collect their rows. A
 * benchmark that fails is reported in `failures` and the others still run; `onProgress` gets
 * the results so far after each one (so a long run that dies later keeps what it measured).
 */
export async function runSuite(
  options: CliOptions,
  command: string,
  onProgress: (partial: SuiteResult) => void = () => undefined,
): Promise<SuiteResult> {
  const startedAt = new Date().toISOString();
  const progress = new Progress(options.quiet);
  const probe = await BenchRedis.start('everysec');
  const machine = machineInfo(await probe.version());
  await probe.destroy();
  const load1 = Number(String(machine.loadAverageAtStart).split(' ')[0]);
  const pin = options.pin === 'auto' ? load1 < 1 : options.pin;
  const where = placement(pin);
  const ctx: BenchContext = {
    profile: options.profile,
    progress,
    systems: {
      placement: where,
      cpuProfDir: options.cpuProfDir,
      source: options.source,
      loadClient: options.loadClient,
    },
    rows: [],
    traceStages: options.traceStages,
  };
  progress.note(
    `profile ${options.profile.name}: ${options.only.join(', ')} · ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, Redis ${machine.redis}, load ${machine.loadAverageAtStart}`,
  );
  progress.note(`load clients: ${options.loadClient} (the same kind for every system)`);
  progress.note(
    pin
      ? 'pinned: edges, Socket.IO servers and producers on CPU 0; Redis and load clients on CPU 1'
      : `not pinned${options.pin === 'auto' ? ' (the machine is busy: load average ≥ 1; --pin forces it)' : ''}`,
  );
  const failures: SuiteResult['failures'] = [];
  const snapshot = (): SuiteResult => ({
    profile: options.profile.name,
    startedAt,
    finishedAt: new Date().toISOString(),
    command,
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    placement: { ...where },
    code: options.source ? 'source' : 'compiled',
    loadClient: options.loadClient,
    rows: [...ctx.rows],
    failures: [...failures],
  });
  try {
    // In the profile's order, whatever order --only named them in.
    for (const name of BENCHMARKS.filter((b) => options.only.includes(b))) {
      try {
        await RUNNERS[name](ctx);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ bench: name, error: message });
        progress.note(`${name} FAILED: ${message.split('\n')[0]}`);
      }
      onProgress(snapshot());
    }
  } finally {
    progress.stop();
  }
  return snapshot();
}
