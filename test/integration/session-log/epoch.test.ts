import { afterEach, describe, expect, it } from 'vitest';
import type { HoldfastError } from '@holdfast/protocol';
import { ErrorCode } from '@holdfast/protocol';
import { SessionLog, type AppendResult } from '@holdfast/session-log';
import { RedisServer, truncateAofTailIn } from '../../helpers/redis-server.js';
import { sessionLogFactory, uniqueId } from '../../helpers/session-log-fixture.js';
import { waitFor } from '../../helpers/wait-for.js';

// Each test runs its own redis-server: they kill it.
let server: RedisServer | undefined;
const logs = sessionLogFactory(() => {
  if (!server) throw new Error('no server');
  return server;
});

afterEach(async () => {
  await logs.closeAll();
  await server?.destroy();
  server = undefined;
});

async function readAll(log: SessionLog, sessionId: string): Promise<Map<number, unknown>> {
  const entries = new Map<number, unknown>();
  for (let from = 1; ;) {
    const page = await log.read(sessionId, { from, limit: 1000 });
    for (const entry of page.entries) entries.set(entry.offset, entry.data);
    if (page.entries.length === 0) return entries;
    from = page.entries.at(-1)!.offset + 1;
  }
}

/** After a restart the log's connection reconnects by itself; wait until it answers again. */
async function waitUntilServing(log: SessionLog, sessionId: string): Promise<void> {
  await waitFor(
    () =>
      log.info(sessionId).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 15_000, what: 'the session log to reconnect' },
  );
}

describe('epochs across Redis restarts', () => {
  it('keeps the epoch after kill -9 with appendfsync always: nothing acknowledged can be lost', async () => {
    server = await RedisServer.start({ appendfsync: 'always' });
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    await log.appendBatch(
      sessionId,
      Array.from({ length: 100 }, (_, i) => ({ data: i })),
    );
    expect((await log.info(sessionId)).durable).toBe(true);

    const runId = server.runId;
    await server.kill();
    await server.restart();
    expect(server.runId).not.toBe(runId);
    await waitUntilServing(log, sessionId);

    expect(await log.info(sessionId)).toMatchObject({ epoch, head: 100, durable: true });
    expect(await log.append(sessionId, 'next')).toMatchObject({ epoch, offset: 101 });
  });

  it('starts a new epoch after a restart under everysec whose AOF tail was lost, and never reuses an offset within an epoch', async () => {
    server = await RedisServer.start({ appendfsync: 'everysec' });
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch: oldEpoch } = await log.createSession(sessionId);
    for (let i = 1; i <= 50; i++) await log.append(sessionId, `old-${i}`);
    expect((await log.info(sessionId)).durable).toBe(false);

    await server.kill();
    // What an OS crash does under everysec: the last writes never reach the disk.
    await server.truncateAofTail(400);
    await server.restart();
    await waitUntilServing(log, sessionId);

    const after = await log.info(sessionId);
    expect(after.head).toBeLessThan(50);
    expect(after.head).toBeGreaterThan(0);
    expect(after.epoch).not.toBe(oldEpoch);
    // A reader that saw the lost offsets under the old epoch cannot mistake new content for
    // them: acks and positions of the old epoch are refused.
    const ackError = await log.ack(sessionId, { epoch: oldEpoch, offset: 1 }).catch((e: unknown) => e);
    expect((ackError as HoldfastError).code).toBe(ErrorCode.EpochMismatch);

    const next = await log.append(sessionId, 'new-1');
    expect(next).toEqual({ epoch: after.epoch, offset: after.head + 1, duplicate: false });
    const entries = await readAll(log, sessionId);
    for (let offset = 1; offset <= after.head; offset++) expect(entries.get(offset)).toBe(`old-${offset}`);
    expect(entries.get(after.head + 1)).toBe('new-1');
  });

  it('starts a new epoch after a restart without AOF that restored an older snapshot', async () => {
    server = await RedisServer.start({ appendonly: false });
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    await log.appendBatch(
      sessionId,
      Array.from({ length: 30 }, (_, i) => ({ data: i })),
    );
    await server.client().save();
    await log.appendBatch(
      sessionId,
      Array.from({ length: 30 }, (_, i) => ({ data: 30 + i })),
    );

    await server.kill();
    await server.restart();
    await waitUntilServing(log, sessionId);

    const after = await log.info(sessionId);
    expect(after.head).toBe(30);
    expect(after.epoch).not.toBe(epoch);
    expect(await log.append(sessionId, 'x')).toMatchObject({ epoch: after.epoch, offset: 31 });
  });

  it('starts a new epoch at the first write of a Redis that is not durable, then rotates after the next loss', async () => {
    server = await RedisServer.start({ appendfsync: 'always' });
    const log = await logs.open();
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);
    await log.append(sessionId, 'durable write');

    await server.kill();
    await server.restart({ appendfsync: 'everysec' });
    await waitUntilServing(log, sessionId);
    // What is stored was fsynced, but what comes next is not: the durable epoch ends here.
    const lossy = await log.append(sessionId, 'lossy write');
    expect(lossy.epoch).not.toBe(epoch);
    expect(lossy.offset).toBe(2);
    expect((await log.info(sessionId)).durable).toBe(false);

    await server.kill();
    await server.restart({ appendfsync: 'everysec' });
    await waitUntilServing(log, sessionId);
    expect((await log.info(sessionId)).epoch).not.toBe(lossy.epoch);
  });

  it('never reuses an offset when the AOF tail lost by a non-durable Redis held the end of a durable epoch', async () => {
    server = await RedisServer.start({ appendfsync: 'always' });
    const log = await logs.open();
    const sessionId = uniqueId();
    await log.createSession(sessionId);
    await log.append(sessionId, 'durable write');

    await server.kill();
    await server.restart({ appendfsync: 'everysec' });
    // The log issues no write until it is asked to, so this is the AOF as the restart left it.
    const atRestart = await truncateAofTailIn(server.dir, 0);
    await waitUntilServing(log, sessionId);
    const lossy = await log.append(sessionId, 'lossy write');

    // An OS crash under everysec: everything written since the restart is gone, the epoch
    // change included. The next Redis is durable again and finds the durable mark.
    await server.kill();
    const end = await truncateAofTailIn(server.dir, 0);
    await server.truncateAofTail(end.sizeBefore - atRestart.sizeBefore);
    await server.restart({ appendfsync: 'always' });
    await waitUntilServing(log, sessionId);
    expect((await log.info(sessionId)).head).toBe(1);

    // Offset 2 is handed out again, but never under the epoch the lost write was acknowledged
    // with: a client that saw it is reset instead of taking new content for the old.
    const next = await log.append(sessionId, 'after the loss');
    expect(next.offset).toBe(2);
    expect(next.epoch).not.toBe(lossy.epoch);
  });

  it('loses no acknowledged append when Redis is killed mid-append (appendfsync always)', async () => {
    server = await RedisServer.start({ appendfsync: 'always' });
    const log = await logs.open({ commandTimeoutMs: 1000 });
    const sessionId = uniqueId();
    const { epoch } = await log.createSession(sessionId);

    const acknowledged = new Map<string, AppendResult>();
    let failures = 0;
    let stop = false;
    const producer = async (p: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const id = `p${p}-m${i}`;
        // Retry each message with its id until it is acknowledged, as a producer should.
        for (;;) {
          try {
            acknowledged.set(id, await log.append(sessionId, id, { id }));
            break;
          } catch {
            failures++;
            if (stop) return;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }
    };
    const producers = Array.from({ length: 8 }, (_, p) => producer(p));

    await waitFor(() => acknowledged.size >= 2000, { what: '2,000 acknowledged appends' });
    await server.kill();
    await server.restart();
    const before = acknowledged.size;
    await waitFor(() => acknowledged.size >= before + 500, { timeoutMs: 15_000, what: 'appends to resume' });
    stop = true;
    await Promise.all(producers);
    expect(failures).toBeGreaterThan(0);

    const entries = await readAll(log, sessionId);
    const info = await log.info(sessionId);
    expect(info.epoch).toBe(epoch);
    expect(entries.size).toBe(info.head);
    // Every acknowledged append is in the log at its offset, exactly once.
    for (const [id, result] of acknowledged) {
      expect(result.epoch).toBe(epoch);
      expect(entries.get(result.offset)).toBe(id);
    }
    const ids = [...entries.values()];
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('reading the server identity', () => {
  it('retries a failed read on a connection that stays up, instead of waiting for a reconnection', async () => {
    server = await RedisServer.start();
    // A user that may not run INFO yet: the log connects (ioredis skips its ready check on
    // NOPERM), but reading the run id fails on a live connection, as a timeout on a loaded host
    // does. The chaos suite saw edges refuse every handshake for minutes that way.
    const admin = server.client();
    await admin.call('ACL', 'SETUSER', 'holdfast', 'on', '>secret', '~*', '&*', '+@all', '-info');
    const log = new SessionLog({
      redis: `redis://holdfast:secret@127.0.0.1:${server.port}`,
      keyPrefix: uniqueId('t'),
      commandTimeoutMs: 500,
    });
    try {
      await waitFor(() => log.connected, { what: 'the log to connect' });
      const sessionId = uniqueId();
      await expect(log.createSession(sessionId)).rejects.toMatchObject({ code: ErrorCode.RedisUnavailable });

      await admin.call('ACL', 'SETUSER', 'holdfast', '+info');
      const created = await waitFor(() => log.createSession(sessionId), {
        timeoutMs: 10_000,
        what: 'the log to read the identity again without a reconnection',
      });
      expect(created.sessionId).toBe(sessionId);
    } finally {
      await log.close();
    }
  });
});
