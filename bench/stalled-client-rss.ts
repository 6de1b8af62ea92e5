/**
 * Edge memory with a stalled client: one client connects and never acks while a backlog of
 * 100-byte messages is appended to its session. Prints the edge process's RSS (and the Node
 * heap it reports) after 0, 10,000 and 100,000 messages of backlog (more with --max N).
 * The edge holds at most one flow-control window per connection, so the figures should not
 * grow with the backlog.
 *
 *   node --conditions=source --import tsx bench/stalled-client-rss.ts [--max 1000000]
 */
import { readFileSync } from 'node:fs';
import { SessionLog } from '@holdfast/session-log';
import { EdgeProcess } from '../test/helpers/edge-process.js';
import { RawClient } from '../test/helpers/raw-client.js';
import { RedisServer } from '../test/helpers/redis-server.js';
import { tokenFor } from '../test/helpers/tokens.js';
import { waitFor } from '../test/helpers/wait-for.js';

const maxArg = process.argv.indexOf('--max');
const max = maxArg > 0 ? Number(process.argv[maxArg + 1]) : 100_000;
const steps = [0, 10_000, 100_000, 1_000_000].filter((n) => n <= max);

async function heapUsedMiB(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 1024 / 1024;
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const redis = await RedisServer.start({ appendfsync: 'everysec' });
const edge = await EdgeProcess.start({ redisUrl: redis.url });
const log = new SessionLog({ redis: redis.url, retention: { maxMessages: 0, maxAgeMs: 0 } });
try {
  const sessionId = 'stalled';
  await log.createSession(sessionId);
  const client = await RawClient.connect(edge.url, {
    sessionId,
    token: await tokenFor(sessionId),
    autoAck: false,
  });
  const payload = 'x'.repeat(100);
  let published = 0;
  console.log('backlog (messages) | edge RSS (MiB) | edge heap used (MiB) | delivered to the stalled client');
  for (const target of steps) {
    while (published < target) {
      const n = Math.min(1000, target - published);
      await log.appendBatch(
        sessionId,
        Array.from({ length: n }, () => ({ data: payload })),
      );
      published += n;
    }
    // Let the edge handle every notification, then settle: wait until RSS stops moving.
    let last = 0;
    await waitFor(
      () => {
        const now = rssKiB(edge.pid);
        const stable = Math.abs(now - last) < 64;
        last = now;
        return stable;
      },
      { intervalMs: 500, timeoutMs: 30_000, what: 'edge RSS to settle' },
    );
    const heap = await heapUsedMiB(edge.url);
    console.log(
      `${String(target).padStart(18)} | ${(last / 1024).toFixed(1).padStart(14)} | ${heap.toFixed(1).padStart(20)} | ${client.delivered.length}`,
    );
  }
  client.close();
} finally {
  await edge.stop();
  await log.close();
  await redis.destroy();
}
