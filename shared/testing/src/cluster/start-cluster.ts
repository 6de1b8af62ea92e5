import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, ClusterOnRedisCluster, ClusterOptions, LocalTopology } from './cluster-types.js';
import { composeRequiredVariables, hostPathFor, loadComposeFile, type ComposeFile } from './compose-file.js';
import { composeRoles, type RedisRole } from './compose-roles.js';
import { freePort } from '../free-port.js';
import { REPO_ROOT } from '../repo-root.js';
import type { LocalServer } from './haproxy-config.js';
import { devCertificate, startLocalHaproxy } from './local-haproxy.js';
import { startLocalRedis, type LocalRedis } from './local-redis.js';
import { startLocalRedisCluster, type LocalRedisCluster } from './local-redis-cluster.js';
import { LOCAL_HOST, nodeServiceProcess, processName, type ChildSettings } from './local-service.js';
import type { ServiceProcess } from '../service-process.js';

/** Where the haproxy image reads its configuration. */
const HAPROXY_CONFIG_TARGET = '/usr/local/etc/haproxy/haproxy.cfg';
const REDIS_CONTAINER_PORT = 6379;
/** The override that swaps the single Redis for a Redis Cluster. */
export const REDIS_CLUSTER_COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.redis-cluster.yml');

/** The compose files startCluster() merges, in order, for these options. */
export function clusterComposeFiles(options: ClusterOptions = {}): string[] {
  return [
    options.composeFile ?? join(REPO_ROOT, 'docker-compose.yml'),
    ...(options.overrideFiles ?? []),
    ...(options.redisCluster ? [REDIS_CLUSTER_COMPOSE_FILE] : []),
  ];
}

/**
 * Runs docker-compose.yml (and any override files) as local processes: Redis with the compose
 * Redis settings (one redis-server, or with `redisCluster` six cluster nodes and the job that
 * forms the cluster), every Holdfast service (`node services/<svc>/dist/main.js` becomes `node
 * --conditions=source --import tsx services/<svc>/src/main.ts`) with the compose environment, its
 * hostnames and ports rewritten to the local ones, and HAProxy with deploy/haproxy.cfg, its
 * server-template lines replaced by the local processes. Resolves once HAProxy sees every server UP.
 */
export function startCluster(
  options: ClusterOptions & { redisCluster: true },
): Promise<ClusterOnRedisCluster>;
export function startCluster(options?: ClusterOptions & { redisCluster?: false }): Promise<Cluster>;
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster | ClusterOnRedisCluster> {
  const files = clusterComposeFiles(options);
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'holdfast-cluster-')));
  const vars: Record<string, string> = { ...options.vars };
  for (const name of composeRequiredVariables(files)) vars[name] ??= randomBytes(32).toString('hex');
  const compose = loadComposeFile(files, vars);
  const roles = composeRoles(compose);
  if ((roles.redis.kind === 'cluster') !== (options.redisCluster ?? false)) {
    // The return type follows the option: a cluster from overrideFiles alone would be mistyped.
    throw new Error(`${files.join(' + ')}: a Redis Cluster topology needs redisCluster: true, and only it`);
  }
  if (roles.redis.kind === 'cluster' && options.redisLink !== undefined) {
    throw new Error('redisLink works with a single Redis only: cluster clients follow the nodes’ addresses');
  }
  // The cluster's init job (deploy/redis-cluster-init.sh) runs redis-cli.
  requireBinaries(
    roles.redis.kind === 'cluster' ? ['redis-server', 'redis-cli', 'haproxy'] : ['redis-server', 'haproxy'],
  );

  const started: ServiceProcess[] = [];
  let redis: LocalRedis | undefined;
  let redisCluster: LocalRedisCluster | undefined;
  const settings: ChildSettings = {
    ...(options.onLine === undefined ? {} : { onLine: options.onLine }),
    detached: options.detached ?? false,
  };
  const stopAll = async (): Promise<void> => {
    const services = started.filter((p) => p.name !== 'haproxy');
    await Promise.all(services.map((p) => p.stop(graceOf(compose, p))));
    await Promise.all(started.filter((p) => p.name === 'haproxy').map((p) => p.stop(5_000)));
    await redis?.process.stop(redisGraceMs(roles.redis));
    await redisCluster?.stop(redisGraceMs(roles.redis));
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  try {
    // Redis first: everything else connects to it (compose: depends_on, healthy / formed).
    let redisPort: number | undefined;
    const endpoints = new Map<string, string>();
    if (roles.redis.kind === 'single') {
      const server = roles.redis.server;
      redis = await startLocalRedis({
        command: (server.command ?? ['redis-server']).map((arg) => hostPathFor(server, arg) ?? arg),
        dir: join(dataDir, 'redis'),
        ...(options.ports?.redis === undefined ? {} : { port: options.ports.redis }),
        ...settings,
      });
      redisPort = redis.port;
      endpoints.set(`${server.name}:${REDIS_CONTAINER_PORT}`, `${LOCAL_HOST}:${redis.port}`);
    } else {
      redisCluster = await startLocalRedisCluster({
        ...roles.redis,
        dir: join(dataDir, 'nodes'),
        settings,
      });
      for (const [address, local] of redisCluster.endpoints) endpoints.set(address, local);
    }

    // Every service port gets a local one; `<service>:<container port>` in URLs is rewritten to it.
    const plans = await Promise.all(
      roles.nodeServices.map(async (service) => {
        const count = options.scale?.[service.name] ?? service.replicas;
        const containerPort = service.environment.PORT;
        const ports = await Promise.all(
          Array.from({ length: count }, () => (containerPort === undefined ? undefined : freePort())),
        );
        const first = ports[0];
        if (containerPort !== undefined && first !== undefined) {
          endpoints.set(`${service.name}:${containerPort}`, `${LOCAL_HOST}:${first}`);
        }
        return { service, ports };
      }),
    );
    const byService = new Map<string, ServiceProcess[]>();
    await Promise.all(
      plans.flatMap(({ service, ports }) =>
        ports.map(async (port, i) => {
          const own = await processEndpoints(
            processName(service, i),
            endpoints,
            roles.redis,
            redisPort,
            options,
          );
          const child = nodeServiceProcess(service, i, port, own, options.env?.[service.name], settings);
          const list = byService.get(service.name) ?? [];
          list[i] = child;
          byService.set(service.name, list);
          started.push(child);
          await child.start();
        }),
      ),
    );

    // HAProxy last, with one server line per local process of each service it routes to.
    const templatePath = hostPathFor(roles.haproxy, HAPROXY_CONFIG_TARGET);
    if (templatePath === undefined) {
      throw new Error(`${roles.haproxy.name}: no volume mounts a config file at ${HAPROXY_CONFIG_TARGET}`);
    }
    const servers: Record<string, LocalServer[]> = {};
    for (const [name, processes] of byService) {
      servers[name] = processes.flatMap((p) =>
        p.port === undefined ? [] : [{ host: LOCAL_HOST, port: p.port }],
      );
    }
    const lb = await startLocalHaproxy({
      templatePath,
      servers,
      dir: dataDir,
      env: roles.haproxy.environment,
      ...(options.tls ? { tlsCert: await devCertificate(roles.haproxy, options.certDir) } : {}),
      ...(options.checkInterval === undefined ? {} : { checkInterval: options.checkInterval }),
      ...(options.ports === undefined ? {} : { ports: options.ports }),
      ...settings,
    });
    started.push(lb.process);

    const topology: LocalTopology = {
      haproxyUrl: lb.edgesUrl,
      apiUrl: lb.apiUrl,
      statsUrl: lb.statsUrl,
      redisUrl: redis?.url ?? redisCluster?.url ?? '',
      edges: byService.get('edge') ?? [],
      workers: byService.get('worker') ?? [],
      apis: byService.get('api') ?? [],
      haproxy: lb.process,
      vars,
      compose,
      dataDir,
      serverStatus: lb.serverStatus,
      waitForServersUp: lb.waitForServersUp,
      stop: once(stopAll),
    };
    await topology.waitForServersUp();
    if (redis !== undefined) return { ...topology, redis };
    if (redisCluster !== undefined) return { ...topology, redisCluster };
    throw new Error('unreachable: Redis started in neither shape');
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The endpoints one service process uses: the shared ones, except that with `redisLink` its
 * Redis address is its own link's.
 */
async function processEndpoints(
  name: string,
  endpoints: ReadonlyMap<string, string>,
  redisRole: RedisRole,
  redisPort: number | undefined,
  options: ClusterOptions,
): Promise<ReadonlyMap<string, string>> {
  if (redisRole.kind !== 'single' || redisPort === undefined || options.redisLink === undefined) {
    return endpoints;
  }
  const linkPort = await options.redisLink(name, redisPort);
  const redisEndpoint = `${redisRole.server.name}:${REDIS_CONTAINER_PORT}`;
  return new Map([...endpoints, [redisEndpoint, `${LOCAL_HOST}:${linkPort}`]]);
}

function graceOf(compose: ComposeFile, child: ServiceProcess): number {
  const service = child.name.replace(/-\d+$/, '');
  return compose.services[service]?.stopGracePeriodMs ?? 10_000;
}

function redisGraceMs(role: RedisRole): number {
  return (role.kind === 'single' ? role.server : role.nodes[0])?.stopGracePeriodMs ?? 30_000;
}

function requireBinaries(binaries: readonly string[]): void {
  const packages: Record<string, string> = { 'redis-cli': 'redis-tools' };
  for (const binary of binaries) {
    if (spawnSync(binary, ['-v']).error) {
      throw new Error(
        `${binary} is not installed: run \`npm run setup\` (Debian/Ubuntu: apt-get install ${packages[binary] ?? binary})`,
      );
    }
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
