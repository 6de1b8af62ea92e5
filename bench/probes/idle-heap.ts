/**
 * Measurement, not a test: what an idle connection keeps on the heap, by object kind. Starts a
 * Holdfast edge and a plain Socket.IO server in turn (the idle-memory benchmark's processes),
 * takes a heap snapshot after GC before and after `count` idle clients connect, and prints per
 * connection the retained-size growth by (node type, constructor or name), biggest first, for
 * each server side by side. The names point at the code to slim: closures show as `closure`
 * with their function name, Maps/Sets/arrays by constructor.
 *
 * The servers run compiled Holdfast (dist/: `npm run build` first), as the benchmarks do by
 * default: from sources, tsx's keep-names helper gives every closure a property array of its
 * own (about 250 bytes each), which is not what production carries. `--source` runs them anyway.
 * KEEP_HEAP=1 keeps the snapshot files for a closer look (e.g. in Chrome DevTools).
 *
 *   node --conditions=source --import tsx bench/probes/idle-heap.ts [count=1000] [top=40] [--source]
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchChild } from '../lib/ipc.js';
import { BenchRedis } from '../lib/redis.js';
import { startClients, startEdge, startProducer, startSocketIo, stopAll } from '../lib/systems.js';

const count = Number(process.argv[2] ?? 1000);
const top = Number(process.argv[3] ?? 40);
const systems = {
  placement: {},
  cpuProfDir: undefined,
  source: process.argv.includes('--source'),
  loadClient: 'raw' as const,
};

interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per "type name" of every node in a snapshot. */
function sizesByKind(path: string): Map<string, { bytes: number; count: number }> {
  const file = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshotFile;
  const fields = file.snapshot.meta.node_fields;
  const types = file.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const kinds = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < file.nodes.length; i += fields.length) {
    const type = types[file.nodes[i + typeAt] as number] ?? '?';
    let name = file.strings[file.nodes[i + nameAt] as number] ?? '?';
    // Strings and numbers are named by their content: group them by type alone.
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number')
      name = '';
    const key = `${type} ${name.slice(0, 60)}`;
    const kind = kinds.get(key) ?? { bytes: 0, count: 0 };
    kind.bytes += file.nodes[i + sizeAt] as number;
    kind.count += 1;
    kinds.set(key, kind);
  }
  return kinds;
}

async function growth(
  peer: 'holdfast' | 'socket.io',
  redisUrl: string,
  sessionIds: string[],
): Promise<Map<string, { bytes: number; count: number }>> {
  const children: BenchChild[] = [];
  try {
    const server =
      peer === 'holdfast'
        ? await startEdge('edge-heap', redisUrl, systems)
        : await startSocketIo('plain', redisUrl, systems);
    children.push(server.child);
    const clients = await startClients(`clients-heap-${peer}`, systems);
    children.push(clients);
    const snapshot = async (label: string): Promise<Map<string, { bytes: number; count: number }>> => {
      const path = join(tmpdir(), `idle-heap-${peer}-${label}-${process.pid}.heapsnapshot`);
      await server.child.call('heapSnapshot', { path });
      const kinds = sizesByKind(path);
      if (!process.env.KEEP_HEAP) rmSync(path, { force: true });
      else console.log(`kept ${path}`);
      return kinds;
    };
    const before = await snapshot('before');
    await clients.call('connect', {
      system: peer === 'holdfast' ? 'holdfast' : 'plain',
      url: server.url,
      count,
      sessionIds,
    });
    const after = await snapshot('after');
    const grown = new Map<string, { bytes: number; count: number }>();
    for (const [key, kind] of after) {
      const was = before.get(key) ?? { bytes: 0, count: 0 };
      grown.set(key, { bytes: (kind.bytes - was.bytes) / count, count: (kind.count - was.count) / count });
    }
    return grown;
  } finally {
    await stopAll(children);
  }
}

const redis = await BenchRedis.start('everysec');
const producer = await startProducer(redis.url, systems);
try {
  await producer.call('create', { prefix: 'heap', count });
  const sessionIds = Array.from({ length: count }, (_, i) => `heap${i}`);
  const holdfast = await growth('holdfast', redis.url, sessionIds);
  const plain = await growth('socket.io', redis.url, sessionIds);
  const total = (m: Map<string, { bytes: number }>): number =>
    [...m.values()].reduce((sum, k) => sum + k.bytes, 0);
  console.log(
    `${count} idle connections: self size per connection, holdfast ${(total(holdfast) / 1024).toFixed(2)} KiB, socket.io ${(total(plain) / 1024).toFixed(2)} KiB`,
  );
  const keys = [...new Set([...holdfast.keys(), ...plain.keys()])];
  const rows = keys
    .map((key) => ({ key, h: holdfast.get(key), p: plain.get(key) }))
    .sort((a, b) => (b.h?.bytes ?? 0) - (b.p?.bytes ?? 0) - ((a.h?.bytes ?? 0) - (a.p?.bytes ?? 0)));
  console.log('| kind | holdfast B/conn | (objects) | socket.io B/conn | (objects) |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const { key, h, p } of rows.slice(0, top)) {
    const cell = (k: { bytes: number; count: number } | undefined): string =>
      `${(k?.bytes ?? 0).toFixed(0)} | ${(k?.count ?? 0).toFixed(2)}`;
    console.log(`| ${key} | ${cell(h)} | ${cell(p)} |`);
  }
} finally {
  await stopAll([producer]);
  await redis.destroy();
}
