import { Redis } from 'ioredis';

/**
 * One readiness probe on a fresh connection: PING must answer PONG (it answers -LOADING while the
 * dataset loads) and INFO persistence must say loading:0. Returns the run_id when ready.
 */
export async function probeRedisReady(host: string, port: number): Promise<string | undefined> {
  const probe = new Redis({
    host,
    port,
    lazyConnect: true,
    connectTimeout: 500,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // ioredis's own ready check would wait out the load by itself; we want a quick yes/no.
    enableReadyCheck: false,
  });
  probe.on('error', () => {}); // Refused connections are expected here; connect() rejects anyway.
  try {
    await probe.connect();
    if ((await probe.ping()) !== 'PONG') return undefined;
    const persistence = await probe.info('persistence');
    if (!/^loading:0\r?$/m.test(persistence)) return undefined;
    const server = await probe.info('server');
    return /^run_id:([0-9a-f]+)\r?$/m.exec(server)?.[1];
  } finally {
    probe.disconnect();
  }
}
