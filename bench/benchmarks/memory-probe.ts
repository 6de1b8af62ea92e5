import type { BenchChild } from '../lib/ipc.js';
import { rssBytes } from '../lib/proc-stats.js';
import { sleep } from '../lib/stats.js';

export interface MemoryReading {
  readonly rssMiB: number;
  readonly heapMiB: number;
}

/**
 * A server's memory once it has settled: a full GC in the process (--expose-gc), then RSS read
 * from /proc until two readings 500 ms apart differ by less than 64 KiB (or 30 s pass).
 */
export async function settledMemory(server: BenchChild): Promise<MemoryReading> {
  let heap = 0;
  let last = -1;
  const deadline = Date.now() + 30_000;
  for (;;) {
    heap = (await server.call<{ heapUsed: number }>('memory')).heapUsed;
    const rss = rssBytes(server.pid);
    if ((last >= 0 && Math.abs(rss - last) < 64 * 1024) || Date.now() > deadline) {
      return { rssMiB: rss / 1024 / 1024, heapMiB: heap / 1024 / 1024 };
    }
    last = rss;
    await sleep(500);
  }
}
