import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_NOT_INSTALLED, RedisServer, type RedisServerOptions, waitFor } from '@holdfast/testing';

// Every server a test starts is destroyed after it, pass or fail, so no redis-server outlives a test.
const servers: RedisServer[] = [];

async function startServer(opts?: RedisServerOptions): Promise<RedisServer> {
  const server = await RedisServer.start(opts);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.destroy()));
});

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('RedisServer test harness', () => {
  it('starts a server that answers SET/GET on its own port and dir', async () => {
    const server = await startServer();
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.runId).toMatch(/^[0-9a-f]{40}$/);
    expect(server.running).toBe(true);

    const client = server.client();
    await client.set('greeting', 'hello');
    expect(await client.get('greeting')).toBe('hello');
    expect(await client.config('GET', 'dir')).toEqual(['dir', server.dir]);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  });

  it('keeps writes acknowledged under appendfsync always across kill -9 and restart', async () => {
    const server = await startServer({ appendfsync: 'always' });
    const client = server.client();
    for (let i = 0; i < 50; i++) await client.set(`key:${i}`, `value:${i}`);
    const oldPid = server.pid;

    await server.kill();
    expect(server.running).toBe(false);
    expect(processExists(oldPid)).toBe(false);
    await server.restart();

    expect(server.pid).not.toBe(oldPid);
    const fresh = server.client();
    expect(await fresh.dbsize()).toBe(50);
    expect(await fresh.get('key:49')).toBe('value:49');
    // The client made before the crash reconnects to the same port on its own.
    await waitFor(async () => (await client.get('key:0')) === 'value:0', { what: 'old client to reconnect' });
  });

  it('loses everything on stop + restart with appendonly no and no save points', async () => {
    const server = await startServer({ appendonly: false });
    await server.client().set('ephemeral', '1');

    await server.stop();
    await server.restart({ appendonly: false });

    expect(await server.client().exists('ephemeral')).toBe(0);
    expect(existsSync(join(server.dir, 'dump.rdb'))).toBe(false);
  });

  it('loads the surviving prefix after truncateAofTail cut the last writes', async () => {
    const server = await startServer({ appendfsync: 'always' });
    const client = server.client();
    for (let i = 0; i < 100; i++) await client.set(`key:${String(i).padStart(3, '0')}`, `value:${i}`);

    await expect(server.truncateAofTail(50)).rejects.toThrow(/running/);
    await server.kill();
    const cut = await server.truncateAofTail(50);
    expect(cut.file).toMatch(/appendonlydir\/appendonly\.aof\.\d+\.incr\.aof$/);
    expect(cut.sizeAfter).toBe(cut.sizeBefore - 50);

    await server.restart();
    const fresh = server.client();
    const keys = await fresh.dbsize();
    expect(keys).toBeLessThan(100);
    expect(keys).toBeGreaterThan(0);
    // Writes are replayed in order, so what survives is exactly a prefix.
    expect(await fresh.exists('key:000')).toBe(1);
    expect(await fresh.exists('key:099')).toBe(0);
  });

  it('never truncates below zero bytes', async () => {
    const server = await startServer();
    await server.client().set('a', '1');
    await server.kill();
    const cut = await server.truncateAofTail(1_000_000);
    expect(cut.sizeAfter).toBe(0);
    await server.restart();
    expect(await server.client().dbsize()).toBe(0);
  });

  it('pause freezes the server (commands time out) and resume thaws it', async () => {
    const server = await startServer();
    const client = server.client({ commandTimeout: 200 });
    expect(await client.ping()).toBe('PONG');

    await server.pause();
    expect(server.paused).toBe(true);
    await expect(client.ping()).rejects.toThrow(/timed out/i);

    await server.resume();
    expect(server.paused).toBe(false);
    expect(await waitFor(async () => (await client.ping()) === 'PONG', { what: 'PONG after resume' })).toBe(
      true,
    );
  });

  it('stops a paused server gracefully', async () => {
    const server = await startServer();
    await server.client().set('k', 'v');
    await server.pause();
    await server.stop();
    expect(server.running).toBe(false);
    await server.restart();
    expect(await server.client().get('k')).toBe('v');
  });

  it('gets a new runId on every restart and applies restart persistence options', async () => {
    const server = await startServer();
    const first = server.runId;

    await server.restart({ appendfsync: 'everysec' });
    expect(server.runId).not.toBe(first);
    expect(await server.client().config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);

    const second = server.runId;
    await server.kill();
    await server.restart();
    expect(server.runId).not.toBe(second);
    // Options from the previous restart stick.
    expect(await server.client().config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
  });

  it('destroy kills the process and removes the dir, and is idempotent', async () => {
    const server = await startServer();
    const client = server.client();
    await client.ping();
    const { dir, pid } = server;
    expect(existsSync(dir)).toBe(true);

    await server.destroy();
    await server.destroy();

    expect(existsSync(dir)).toBe(false);
    expect(processExists(pid)).toBe(false);
    expect(client.status).toBe('end');
    await expect(server.restart()).rejects.toThrow(/destroyed/);
  });

  it('runs several servers side by side on distinct ports and dirs', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    expect(a?.port).not.toBe(b?.port);
    expect(a?.dir).not.toBe(b?.dir);
    await a?.client().set('where', 'a');
    expect(await b?.client().exists('where')).toBe(0);
  });

  it('says how to install redis-server when it is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '';
    try {
      await expect(RedisServer.start()).rejects.toThrow(REDIS_NOT_INSTALLED);
    } finally {
      process.env.PATH = path;
    }
    expect(REDIS_NOT_INSTALLED).toBe(
      'redis-server is not installed: run `npm run setup` (or apt-get install redis-server)',
    );
  });
});
