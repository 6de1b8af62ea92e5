import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { layoutKey } from '@holdfast/session-log';
import { useOwnRedisServer, uniqueId } from '../../helpers/session-log-fixture.js';

const own = useOwnRedisServer();
const logs = own.logs;

describe('the key layout check at start', () => {
  it('stores the partition count once and refuses a process with another', async () => {
    const keyPrefix = uniqueId('t');
    const first = await logs.open({ keyPrefix, partitions: 64 });
    expect(JSON.parse((await own.server.client().get(layoutKey(keyPrefix))) ?? '')).toEqual({
      version: 2,
      partitions: 64,
    });
    await logs.open({ keyPrefix, partitions: 64 });
    await expect(logs.open({ keyPrefix })).rejects.toMatchObject({
      code: ErrorCode.InvalidOptions,
      message: expect.stringContaining('set partitions (HOLDFAST_PARTITIONS) to 64'),
    });
    // The refused process wrote nothing: the first one still works.
    await first.createSession('a');
    expect((await first.append('a', 1)).offset).toBe(1);
  });

  it('refuses to start against sessions of the previous layout unless told to abandon them', async () => {
    const keyPrefix = uniqueId('t');
    await own.server.client().hset(`${keyPrefix}:{chat-1}:meta`, 'epoch', 'e', 'head', '3');
    await expect(logs.open({ keyPrefix })).rejects.toMatchObject({
      code: ErrorCode.InvalidOptions,
      message: expect.stringContaining(`${keyPrefix}:{chat-1}:meta`),
    });
    expect(await own.server.client().exists(layoutKey(keyPrefix))).toBe(0);

    const log = await logs.open({ keyPrefix, oldLayout: 'abandon' });
    expect(await own.server.client().exists(layoutKey(keyPrefix))).toBe(1);
    // Later processes find the stored layout and start without looking again.
    await logs.open({ keyPrefix });
    await expect(log.info('chat-1')).rejects.toMatchObject({ code: ErrorCode.SessionNotFound });
  });

  it('lists sessions of the new layout only', async () => {
    const keyPrefix = uniqueId('t');
    await own.server.client().hset(`${keyPrefix}:{old}:meta`, 'epoch', 'e');
    const log = await logs.open({ keyPrefix, oldLayout: 'abandon', partitions: 8 });
    for (const id of ['a', 'b', 'c']) await log.createSession(id);
    const found: string[] = [];
    let cursor = '0';
    do {
      const page = await log.scanSessions(cursor);
      found.push(...page.sessionIds);
      cursor = page.cursor;
    } while (cursor !== '0');
    expect(found.sort()).toEqual(['a', 'b', 'c']);
  });
});
