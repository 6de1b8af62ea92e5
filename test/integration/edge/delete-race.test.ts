import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess, RedisServer, tokenFor, waitFor } from '@holdfast/testing';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { RawClient } from '../../helpers/raw-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';

// The edge reaches Redis through a proxy adding 1 ms each way: reads take long enough for
// live notifications (and the `ended` notice) to arrive while one is in flight, which is
// when a delete used to overtake messages already acknowledged to the producer (issue 14).
let redis: RedisServer;
let proxy: FaultProxy;
let edge: EdgeProcess;
let log: SessionLog;

beforeAll(async () => {
  redis = await RedisServer.start();
  proxy = await FaultProxy.start({ targetPort: redis.port });
  proxy.setLatency(1);
  log = new SessionLog({ redis: redis.url });
  await log.ready();
  edge = await EdgeProcess.start({ redisUrl: proxy.url('redis') });
});
afterAll(async () => {
  await edge?.stop();
  await log?.close();
  await proxy?.close();
  await redis?.destroy();
});

describe('delete after appends', () => {
  it('delivers every message announced before the delete, then session_ended (100 rounds)', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 100; round++) {
      const sessionId = uniqueId();
      await log.createSession(sessionId);
      const client = await RawClient.connect(edge.url, { sessionId, token: await tokenFor(sessionId) });
      for (let i = 1; i <= 3; i++) await log.append(sessionId, { i });
      await log.endSession(sessionId);
      await waitFor(() => client.notice('session_ended'), { what: `session_ended in round ${round}` });
      const offsets = client.delivered.map((d) => d.offset);
      if (offsets.join() !== '1,2,3') failures.push(`round ${round}: got [${offsets.join()}]`);
      client.close();
    }
    expect(failures).toEqual([]);
  });
});
