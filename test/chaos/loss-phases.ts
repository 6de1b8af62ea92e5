import type { FaultLog } from './fault-log.js';
import type { LossKind } from './schedule.js';
import { sleep } from './sleep.js';
import type { Topology } from './topology.js';

/** Load runs this long on the lossy setting before the crash, so every session writes under it. */
const UNDER_LOAD_MS = 5_000;
/** And this long after, so clients meet the new epochs while load goes on. */
const AFTER_MS = 3_000;
/** The last stretch before the everysec crash, whose writes the AOF tail cut removes. */
const LOSSY_WINDOW_MS = 1_000;
/** About a second of this run's writes: what an OS crash costs `appendfsync everysec`. */
const AOF_TAIL_BYTES = 256 * 1024;

export interface LossWindow {
  readonly kind: LossKind;
  readonly startedAt: number;
  readonly crashedAt: number;
  readonly endedAt: number;
  readonly detail: string;
}

/**
 * The data-loss phases: Redis runs with a setting that can lose acknowledged writes, then loses
 * them. Nothing acknowledged may vanish silently: every client whose session lost data must get
 * a `reset` (a new epoch), which the accounting checks.
 *
 * - `redis_loss_everysec`: a clean restart with `appendfsync everysec`, load, then kill -9 and
 *   the last ~256 KiB of the AOF cut off: what an OS crash loses with everysec.
 * - `redis_loss_no_persistence`: a restart without AOF (from a full snapshot), load, a BGSAVE
 *   snapshot, more load, then kill -9: the restart loads the snapshot, losing what came after.
 */
export async function runLossPhase(
  topology: Topology,
  faults: FaultLog,
  kind: LossKind,
  /** Called when the lossy window opens: what is written from then until the crash may be lost. */
  onLossyWindow: () => void = () => undefined,
): Promise<LossWindow> {
  const { redis } = topology;
  if (!redis) throw new Error(`${kind} needs the standalone topology (one redis-server)`);
  const event = faults.begin(kind, '', () => 0, []);
  const startedAt = event.startedAt;
  let detail: string;
  let crashedAt: number;
  try {
    if (kind === 'redis_loss_everysec') {
      await redis.stop();
      await redis.start('aof_everysec');
      // The AOF tail cut covers about the last second or two of writes.
      await sleep(UNDER_LOAD_MS - LOSSY_WINDOW_MS);
      onLossyWindow();
      await sleep(LOSSY_WINDOW_MS);
      crashedAt = Date.now();
      await redis.kill();
      const cut = await redis.truncateAof(AOF_TAIL_BYTES);
      await redis.start();
      detail = `restart with appendfsync everysec, kill -9 after ${UNDER_LOAD_MS} ms, AOF tail cut ${cut.sizeBefore - cut.sizeAfter} of ${cut.sizeBefore} bytes`;
    } else {
      await redis.shutdownSaving();
      await redis.start('none');
      // The first writes under the new setting mark every live session as not durable.
      await sleep(UNDER_LOAD_MS / 2);
      await redis.snapshot();
      onLossyWindow();
      await sleep(UNDER_LOAD_MS);
      crashedAt = Date.now();
      await redis.kill();
      await redis.start();
      detail = `restart without persistence, BGSAVE, ${UNDER_LOAD_MS} ms more load, kill -9: the snapshot is loaded`;
    }
    await sleep(AFTER_MS);
    faults.end(event);
  } catch (error) {
    faults.end(event, error);
    throw error;
  }
  Object.assign(event, { detail });
  return { kind, startedAt, crashedAt, endedAt: Date.now(), detail };
}
