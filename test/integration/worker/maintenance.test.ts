import { afterAll, beforeAll, expect, it } from 'vitest';
import { SessionLog } from '@holdfast/session-log';
import { sweepRetention } from '@holdfast/worker';
import { RedisServer, waitFor } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';

let redis: RedisServer;
let log: SessionLog;

beforeAll(async () => {
  redis = await RedisServer.start();
  log = new SessionLog({ redis: redis.url, keyPrefix: uniqueId('m') });
  await log.ready();
});
afterAll(async () => {
  await log?.close();
  await redis?.destroy();
});

it('the retention sweep trims every session that outlived its max age without appending', async () => {
  const sessions = Array.from({ length: 30 }, () => uniqueId());
  for (const sessionId of sessions) {
    await log.createSession(sessionId, { retention: { maxAgeMs: 150 } });
    await log.appendBatch(
      sessionId,
      Array.from({ length: 20 }, (_, i) => ({ data: i })),
    );
  }
  const kept = uniqueId();
  await log.createSession(kept);
  await log.append(kept, 'no age limit');

  await waitFor(
    async () => {
      expect(await sweepRetention(log)).toBe(31);
      const infos = await Promise.all(sessions.map((s) => log.info(s)));
      return infos.every((info) => info.length === 0 && info.firstAvailable === 21);
    },
    { timeoutMs: 5000, what: 'every aged session to be trimmed by the sweep' },
  );
  expect(await log.info(kept)).toMatchObject({ length: 1, firstAvailable: 1 });
});
