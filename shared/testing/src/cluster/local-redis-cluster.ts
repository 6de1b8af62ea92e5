import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { hostPathFor, type ComposeService } from './compose-file.js';
import { redisReady } from './local-redis.js';
import { LOCAL_HOST, localEnvironment, type ChildSettings } from './local-service.js';
import { freePort } from '../free-port.js';
import { ServiceProcess } from '../service-process.js';
import { waitFor } from '../wait-for.js';

/** The port every node listens on inside its container (docker-compose.redis-cluster.yml). */
const NODE_CONTAINER_PORT = 6379;
const SLOTS = 16_384;

export interface LocalRedisClusterOptions {
  /** The compose node services (`redis-node-1` ...), each with its redis-server command. */
  readonly nodes: readonly ComposeService[];
  /** The compose one-shot job that forms the cluster (deploy/redis-cluster-init.sh). */
  readonly init: ComposeService;
  /**
   * Data folder: one subfolder per node (its /data volume), and the nodes' ports, reused on the
   * next start so the nodes find each other again at the addresses in their nodes.conf.
   */
  readonly dir: string;
  readonly settings: ChildSettings;
}

export interface LocalRedisNode {
  /** The compose service name, `redis-node-1`. */
  readonly name: string;
  readonly process: ServiceProcess;
  readonly port: number;
}

export interface ClusterNodeState {
  readonly node: LocalRedisNode;
  readonly role: 'master' | 'replica';
  /** Slot ranges a master serves. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

export interface LocalRedisCluster {
  readonly nodes: readonly LocalRedisNode[];
  /** With the password, as the services' REDIS_URL has it: `redis+cluster://:pw@127.0.0.1:p1,...`. */
  readonly url: string;
  readonly password: string;
  /** Compose addresses (`redis-node-1:6379`, `172.29.0.11:6379`) → local `127.0.0.1:port`. */
  readonly endpoints: ReadonlyMap<string, string>;
  /** What the init job printed. */
  readonly initOutput: string;
  /** Every running node's role and slots, as a running node reports them (CLUSTER NODES). */
  nodeStates(): Promise<ClusterNodeState[]>;
  /** The master serving `slot` now. */
  masterOf(slot: number): Promise<ClusterNodeState>;
  /** The slot of `key` (hash tags included), as the cluster computes it. */
  slotOf(key: string): Promise<number>;
  /** Until every running node says cluster_state:ok with all slots served. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** SIGTERM every node (Redis finishes its AOF), SIGKILL after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The compose Redis Cluster as local processes: each node runs its compose command (redis.conf,
 * redis-cluster.conf, password, announced address) on a free port and bus port, announcing
 * 127.0.0.1, with its own data folder; then the init job runs as compose runs it, with its node
 * list made local, and must exit 0. Resolves once the cluster serves every slot.
 */
export async function startLocalRedisCluster(options: LocalRedisClusterOptions): Promise<LocalRedisCluster> {
  const nodes: LocalRedisNode[] = [];
  const endpoints = new Map<string, string>();
  let admin = new Map<LocalRedisNode, Redis>();
  const stop = async (graceMs: number): Promise<void> => {
    for (const link of admin.values()) link.disconnect();
    await Promise.all(nodes.map((node) => node.process.stop(graceMs)));
  };
  let password = '';
  try {
    const ports = await nodePorts(options.dir, options.nodes);
    for (const service of options.nodes) {
      const command = (service.command ?? []).map((arg) => hostPathFor(service, arg) ?? arg);
      const [binary = 'redis-server', ...args] = command;
      password = valueAfter(args, '--requirepass') ?? '';
      const assigned = ports[service.name];
      if (assigned === undefined) throw new Error(`${service.name}: no port assigned`);
      const { port, busPort } = assigned;
      const dir = join(options.dir, service.name);
      await mkdir(dir, { recursive: true });
      const child = new ServiceProcess({
        ...options.settings,
        name: service.name,
        command: binary,
        // Later flags override earlier ones: the compose address becomes the local one.
        args: [
          ...args,
          ...['--port', String(port), '--cluster-port', String(busPort), '--bind', LOCAL_HOST],
          ...['--cluster-announce-ip', LOCAL_HOST, '--dir', dir],
        ],
        env: process.env.PATH === undefined ? {} : { PATH: process.env.PATH },
        cwd: dir,
        port,
        ready: () => redisReady(port, password),
      });
      nodes.push({ name: service.name, process: child, port });
      for (const address of composeAddresses(service)) endpoints.set(address, `${LOCAL_HOST}:${port}`);
    }
    await Promise.all(nodes.map((node) => node.process.start()));
    const initOutput = await runJob(options.init, endpoints, options.settings);
    admin = adminLinks(nodes, password);
    const cluster: LocalRedisCluster = {
      nodes,
      url: `redis+cluster://:${encodeURIComponent(password)}@${nodes.map((n) => `${LOCAL_HOST}:${n.port}`).join(',')}`,
      password,
      endpoints,
      initOutput,
      nodeStates: () => nodeStates(nodes, admin),
      masterOf: async (slot) => {
        const master = (await nodeStates(nodes, admin)).find(
          (state) => state.role === 'master' && state.slots.some(([from, to]) => slot >= from && slot <= to),
        );
        if (master === undefined) throw new Error(`no master serves slot ${slot}`);
        return master;
      },
      slotOf: async (key) => {
        const reporter = nodes.find((node) => node.process.running);
        if (reporter === undefined) throw new Error('no Redis Cluster node is running');
        return (await admin.get(reporter)?.call('CLUSTER', 'KEYSLOT', key)) as number;
      },
      waitHealthy: (timeoutMs = 30_000) => waitHealthy(nodes, admin, timeoutMs),
      stop,
    };
    await cluster.waitHealthy();
    return cluster;
  } catch (error) {
    await stop(5_000);
    throw error;
  }
}

interface NodePorts {
  readonly port: number;
  readonly busPort: number;
}

/**
 * Each node's port and bus port: those of the last start in `dir` (a cluster's nodes know each
 * other only by address, so new ports would leave a restarted cluster unable to re-form), else
 * free ones, saved for the next start. The bus port is chosen, not port + 10000 (may be taken).
 */
async function nodePorts(dir: string, nodes: readonly ComposeService[]): Promise<Record<string, NodePorts>> {
  const file = join(dir, 'node-ports.json');
  const saved = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, NodePorts>;
  const ports: Record<string, NodePorts> = {};
  for (const node of nodes)
    ports[node.name] = saved[node.name] ?? { port: await freePort(), busPort: await freePort() };
  await mkdir(dir, { recursive: true });
  await writeFile(file, `${JSON.stringify(ports, null, 2)}\n`);
  return ports;
}

/** Where compose's containers reach this node: its service name and its announced address. */
function composeAddresses(service: ComposeService): string[] {
  const announced = valueAfter(service.command ?? [], '--cluster-announce-ip');
  return [service.name, ...(announced === undefined ? [] : [announced])].map(
    (host) => `${host}:${NODE_CONTAINER_PORT}`,
  );
}

function valueAfter(args: readonly string[], flag: string): string | undefined {
  const i = args.lastIndexOf(flag);
  return i === -1 ? undefined : args[i + 1];
}

/** Runs a compose one-shot service (`sh <script>`) to its end; a non-zero exit throws with its output. */
async function runJob(
  service: ComposeService,
  endpoints: ReadonlyMap<string, string>,
  settings: ChildSettings,
): Promise<string> {
  const [binary, ...args] = (service.command ?? []).map((arg) => hostPathFor(service, arg) ?? arg);
  if (binary === undefined) throw new Error(`${service.name}: no command to run`);
  const child = spawn(binary, args, {
    env: localEnvironment(service, endpoints),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output += text;
    for (const line of text.split('\n')) if (line !== '') settings.onLine?.(service.name, line);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`${service.name} exited with code ${code}:\n${output}`);
  return output;
}

/** One admin connection per node, which never queues or retries (a killed node must not hang probes). */
function adminLinks(nodes: readonly LocalRedisNode[], password: string): Map<LocalRedisNode, Redis> {
  return new Map(
    nodes.map((node) => {
      const link = new Redis({
        host: LOCAL_HOST,
        port: node.port,
        ...(password === '' ? {} : { password }),
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => 200,
      });
      link.on('error', () => undefined);
      return [node, link] as const;
    }),
  );
}

async function nodeStates(
  nodes: readonly LocalRedisNode[],
  admin: ReadonlyMap<LocalRedisNode, Redis>,
): Promise<ClusterNodeState[]> {
  const reporter = nodes.find((node) => node.process.running);
  if (reporter === undefined) throw new Error('no Redis Cluster node is running');
  const text = (await admin.get(reporter)?.call('CLUSTER', 'NODES')) as string;
  const states: ClusterNodeState[] = [];
  for (const line of text.trim().split('\n')) {
    const [, address = '', flags = '', , , , , , ...slots] = line.split(' ');
    const port = Number(address.split('@')[0]?.split(':').at(-1));
    const node = nodes.find((n) => n.port === port);
    // A failed master still lists its slots until its replica takes them over.
    if (node === undefined || flags.split(',').includes('fail')) continue;
    const master = flags.split(',').includes('master');
    states.push({
      node,
      role: master ? 'master' : 'replica',
      slots: master
        ? slots
            .filter((range) => !range.startsWith('['))
            .map((range) => {
              const [from = 0, to = from] = range.split('-').map(Number);
              return [from, to] as const;
            })
        : [],
    });
  }
  return states;
}

async function waitHealthy(
  nodes: readonly LocalRedisNode[],
  admin: ReadonlyMap<LocalRedisNode, Redis>,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    async () => {
      for (const node of nodes) {
        if (!node.process.running) continue;
        const info = (await admin.get(node)?.call('CLUSTER', 'INFO')) as string;
        if (!info.includes('cluster_state:ok') || !info.includes(`cluster_slots_ok:${SLOTS}`)) return false;
      }
      return true;
    },
    { timeoutMs, what: 'the Redis Cluster to serve every slot' },
  );
}
