import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { HoldfastError } from '@holdfast/protocol';
import { SessionLog, partitionOf, type SessionLogOptions } from '@holdfast/session-log';
import { RedisCluster, waitFor } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';

// A reshard caught in the middle of one slot, held there: the slot MIGRATING on its owner,
// IMPORTING on the target, some keys already moved. A session's keys share one slot (its
// partition's hash tag), and a script names them all, some of which exist only sometimes (the
// tombstone, the second dedupe hash): so Redis refuses every script on that slot with
// TRYAGAIN, on the owner (keys split or missing) and on the target after ASK (keys missing),
// until the slot is handed over. What must hold: appends and reads wait it out (retried, and
// counted) and land exactly once; with a short retry budget they fail with a retryable error
// that says why, and the retry with the same message id lands once.

const RETRIES = 'holdfast_session_log_slot_retries_total';

let cluster: RedisCluster;
let url: string;
const logs: SessionLog[] = [];

beforeAll(async () => {
  // No replicas: the slot's keys move between masters, which is all this test is about.
  cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 0 });
  url = `redis+cluster://${cluster.nodesEnv}`;
}, 60_000);

afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await cluster?.destroy();
});

async function openLog(options: Partial<SessionLogOptions> = {}) {
  const metricsRegistry = new Registry();
  const log = new SessionLog({ redis: url, keyPrefix: uniqueId('hm'), metricsRegistry, ...options });
  logs.push(log);
  await log.ready();
  const retries = async (): Promise<number> =>
    (await metricsRegistry.getSingleMetric(RETRIES)?.get())?.values[0]?.value ?? 0;
  return { log, retries };
}

/** Two sessions of one partition (so of one slot), the slot, and a master that does not own it. */
async function sessionsOnOneSlot(log: SessionLog) {
  const partitions = log.options.partitions;
  const first = uniqueId('a');
  let second = uniqueId('b');
  while (partitionOf(second, partitions) !== partitionOf(first, partitions)) second = uniqueId('b');
  const slot = await cluster.slotOf(log.keys(first).meta);
  const owner = await cluster.masterOf(slot);
  const target = (await cluster.roles()).find((r) => r.role === 'master' && r.id !== owner.id)!;
  return { first, second, slot, target };
}

describe('a slot left half-moved', () => {
  it('appends and reads wait for the hand-over (TRYAGAIN retried) and land exactly once', async () => {
    const { log, retries } = await openLog();
    const { first, second, slot, target } = await sessionsOnOneSlot(log);
    const { epoch: firstEpoch } = await log.createSession(first);
    await log.createSession(second);
    for (let n = 1; n <= 3; n++) {
      await log.append(first, { n });
      await log.append(second, { n });
    }
    // `first` split across the two masters (its meta moved, its log not); `second` moved whole.
    const split = log.keys(first).meta;
    const whole = new Set(Object.values(log.keys(second)));
    const move = await cluster.halfMoveSlot(slot, target.id, (keys) =>
      keys.filter((key) => key === split || whole.has(key)),
    );
    expect(move.movedKeys).toContain(split);

    const started = Date.now();
    const appendSplit = log.append(first, { n: 4 }, { id: 'm4' });
    const appendWhole = log.append(second, { n: 4 }, { id: 'm4' });
    const readWhole = log.read(second, { from: 1 });
    await waitFor(async () => (await retries()) >= 3, {
      timeoutMs: 15_000,
      what: 'the session log to retry the scripts refused on the half-moved slot',
    });
    const retriesWhileHalfMoved = await retries();
    await move.finish();
    const [a, b, read] = await Promise.all([appendSplit, appendWhole, readWhole]);
    const waitedMs = Date.now() - started;

    // The slot now lives on a master with another run id, and a master without AOF fsync
    // always is not durable: the epoch rotates (the honest signal), offsets go on from the head.
    expect(a.offset).toBe(4);
    expect(a.epoch).not.toBe(firstEpoch);
    expect(b.offset).toBe(4);
    expect(read.entries.map((e) => e.offset)).toEqual(read.head >= 4 ? [1, 2, 3, 4] : [1, 2, 3]);
    for (const id of [first, second]) {
      const all = await log.read(id, { from: 1 });
      expect(all.entries.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4]);
    }
    // A retry of the same message id is recognised on the new owner: nothing twice.
    const again = await log.append(first, { n: 4 }, { id: 'm4' });
    expect(again).toMatchObject({ offset: 4, duplicate: true });
    console.log(`slot half-moved: ${JSON.stringify({ retriesWhileHalfMoved, waitedMs })}`);
  }, 60_000);

  it('a batch split over several script calls keeps its order across the hand-over', async () => {
    // 10 messages per call: a batch of 60 is 6 calls, each refused and retried on its own.
    const { log, retries } = await openLog({ groupCommit: { maxMessagesPerCall: 10 } });
    const { first, slot, target } = await sessionsOnOneSlot(log);
    await log.createSession(first);
    await log.append(first, { n: 0 });
    const move = await cluster.halfMoveSlot(slot, target.id, (keys) =>
      keys.filter((key) => key === log.keys(first).meta),
    );
    const batch = log.appendBatch(
      first,
      Array.from({ length: 60 }, (_, i) => ({ data: { n: i + 1 }, id: `b${i + 1}` })),
    );
    await waitFor(async () => (await retries()) >= 1, {
      timeoutMs: 15_000,
      what: 'the batch to be refused on the half-moved slot and retried',
    });
    await move.finish();
    const results = await batch;
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 60 }, (_, i) => i + 2));
    const all = await log.read(first, { from: 1 });
    expect(all.entries.map((e) => (e.data as { n: number }).n)).toEqual(
      Array.from({ length: 61 }, (_, i) => i),
    );
  }, 60_000);

  it('past slotMigrationRetryMs an append fails with a retryable error that says why; its retry lands once', async () => {
    const { log } = await openLog({ slotMigrationRetryMs: 200 });
    const { first, slot, target } = await sessionsOnOneSlot(log);
    await log.createSession(first);
    await log.append(first, { n: 1 });
    const move = await cluster.halfMoveSlot(slot, target.id, (keys) =>
      keys.filter((key) => key === log.keys(first).meta),
    );
    const error = await log.append(first, { n: 2 }, { id: 'm2' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HoldfastError);
    expect((error as HoldfastError).retryable).toBe(true);
    expect((error as HoldfastError).message).toMatch(/being migrated.*slotMigrationRetryMs/);
    await move.finish();
    const retried = await log.append(first, { n: 2 }, { id: 'm2' });
    expect(retried.offset).toBe(2);
    const all = await log.read(first, { from: 1 });
    expect(all.entries.map((e) => (e.data as { n: number }).n)).toEqual([1, 2]);
  }, 60_000);
});
