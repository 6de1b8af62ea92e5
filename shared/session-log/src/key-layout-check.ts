import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { KEY_LAYOUT_VERSION, isOldLayoutMetaKey, layoutKey, oldLayoutMetaPattern } from './keys.js';
import { scanKeys } from './key-scan.js';
import type { OldLayoutPolicy } from './options.js';
import type { CommandLink } from './redis-clients.js';

/** What a deployment stores once in `<prefix>:layout`. */
interface StoredLayout {
  readonly version: number;
  readonly partitions: number;
}

export interface KeyLayoutSettings {
  readonly keyPrefix: string;
  readonly partitions: number;
  readonly oldLayout: OldLayoutPolicy;
}

/**
 * Every process of a deployment must place a session in the same partition, or two of them
 * would write one session under two keys. So the first process stores the layout (version and
 * partition count) in Redis, and every process compares its own with it at start: another
 * count, or another layout version, refuses the start with an error naming the setting.
 *
 * The first process of layout 2 against a Redis that served layout 1 also looks for sessions
 * of that layout (a SCAN, once per deployment: later processes find the stored layout and skip
 * it). Those sessions are not read by this version; it refuses to start unless told to abandon
 * them (`oldLayout: 'abandon'`), so an upgrade never drops live sessions silently.
 */
export async function checkKeyLayout(redis: CommandLink, settings: KeyLayoutSettings): Promise<void> {
  const key = layoutKey(settings.keyPrefix);
  const mine: StoredLayout = { version: KEY_LAYOUT_VERSION, partitions: settings.partitions };
  let stored = await redis.get(key);
  if (stored === null) {
    if (settings.oldLayout === 'refuse') await refuseOldLayoutSessions(redis, settings.keyPrefix);
    // SET NX GET: one process wins; the others read what it stored and compare with that.
    stored = (await redis.call('SET', key, JSON.stringify(mine), 'NX', 'GET')) as string | null;
    if (stored === null) return;
  }
  compareLayouts(key, parseLayout(key, stored), mine);
}

function parseLayout(key: string, text: string): StoredLayout {
  try {
    const value = JSON.parse(text) as Partial<StoredLayout>;
    if (Number.isSafeInteger(value.version) && Number.isSafeInteger(value.partitions)) {
      return value as StoredLayout;
    }
  } catch {
    // Reported below.
  }
  throw new HoldfastError(ErrorCode.InvalidOptions, `${key} holds ${JSON.stringify(text)}, not a key layout`);
}

function compareLayouts(key: string, stored: StoredLayout, mine: StoredLayout): void {
  if (stored.version !== mine.version) {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `Redis holds sessions of key layout ${stored.version} (${key}); this version uses layout ${mine.version}: see docs/deploy.md, "Upgrading"`,
    );
  }
  if (stored.partitions !== mine.partitions) {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `this deployment uses ${stored.partitions} partitions (${key}), this process ${mine.partitions}: set partitions (HOLDFAST_PARTITIONS) to ${stored.partitions}`,
    );
  }
}

async function refuseOldLayoutSessions(redis: CommandLink, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    // On a cluster, every master's keys (key-scan.ts).
    const [next, keys] = await scanKeys(redis, cursor, oldLayoutMetaPattern(prefix), 1000);
    const old = keys.find((k) => isOldLayoutMetaKey(prefix, k));
    if (old !== undefined) {
      throw new HoldfastError(
        ErrorCode.InvalidOptions,
        `Redis holds sessions of the previous key layout (e.g. ${old}), which this version does not read: finish them first, or start with oldLayout 'abandon' (HOLDFAST_OLD_LAYOUT=abandon); see docs/deploy.md, "Upgrading"`,
      );
    }
    cursor = next;
  } while (cursor !== '0');
}

/**
 * The partition count the deployment stored, for tools that should follow it rather than be
 * configured (the CLI); undefined before any process of this layout started.
 */
export async function storedPartitions(redis: CommandLink, keyPrefix: string): Promise<number | undefined> {
  const key = layoutKey(keyPrefix);
  const stored = await redis.get(key);
  return stored === null ? undefined : parseLayout(key, stored).partitions;
}
