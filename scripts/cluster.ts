/**
 * `npm run cluster`: docker-compose.yml run as local processes, for development and for the
 * deploy tests. Same services, same environment, same HAProxy config (deploy/haproxy.cfg); only
 * hostnames and ports are local. See docs/deploy.md.
 *
 *   npm run cluster                         # redis, 3 edges, 2 workers, the API, HAProxy
 *   npm run cluster -- --scale edge=5       # like docker compose up --scale edge=5
 *   npm run cluster -- --tls                # HAProxy terminates TLS with the dev certificate
 *   npm run cluster -- --redis-cluster      # Redis as a 6-node Redis Cluster (docker-compose.redis-cluster.yml)
 *
 * Options: --scale <service>=<n> (repeatable), --tls, --redis-cluster, --port <n> (HAProxy:
 * clients on n, API on n+1, stats on n+2; default 8000), --data <dir> (default data/cluster, or
 * data/redis-cluster with --redis-cluster: Redis data and the generated secrets survive
 * restarts), --quiet (no service output).
 *
 * Ctrl-C stops everything in order: the services first (SIGTERM: edges drain their clients),
 * then HAProxy, then Redis. Tests use startCluster() directly.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PROTOCOL_VERSION } from '@holdfast/protocol';
import {
  clusterComposeFiles,
  composeRequiredVariables,
  REPO_ROOT,
  startCluster,
  type Cluster,
  type ClusterOnRedisCluster,
  type LocalTopology,
} from '@holdfast/testing';

const USAGE =
  'usage: npm run cluster -- [--scale <service>=<n>]... [--tls] [--redis-cluster] [--port <n>] [--data <dir>] [--quiet]';

function say(message: string): void {
  console.log(`holdfast cluster: ${message}`);
}

/**
 * Compose's variables, as `docker compose` reads them: the environment, plus the required ones
 * (the secrets) from <dataDir>/secrets.env when the environment lacks them, else new random ones
 * saved there, so tokens and API keys stay valid across restarts.
 */
function loadVars(composeFiles: readonly string[], dataDir: string): Record<string, string> {
  const file = join(dataDir, 'secrets.env');
  const saved: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) saved[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) vars[key] = value;
  let changed = false;
  for (const name of composeRequiredVariables(composeFiles)) {
    const fromEnv = process.env[name];
    if (fromEnv) vars[name] = fromEnv;
    else {
      vars[name] = saved[name] ?? randomBytes(32).toString('hex');
      changed ||= saved[name] === undefined;
      saved[name] = vars[name];
    }
  }
  if (changed) {
    const text = Object.entries(saved).map(([key, value]) => `${key}=${value}\n`);
    writeFileSync(file, text.join(''), { mode: 0o600 });
  }
  return vars;
}

function parseScale(values: readonly string[]): Record<string, number> {
  const scale: Record<string, number> = {};
  for (const value of values) {
    const match = /^([A-Za-z0-9_-]+)=(\d+)$/.exec(value);
    if (!match) throw new Error(`--scale ${value}: expected <service>=<count>, e.g. edge=5`);
    scale[match[1] as string] = Number(match[2]);
  }
  return scale;
}

/** A path relative to the repository when inside it, else absolute. */
function shown(path: string): string {
  const rel = relative(REPO_ROOT, path);
  return rel.startsWith('..') ? path : rel;
}

/** ` metrics http://…/metrics` from a worker's ready line, when it serves metrics. */
function workerMetrics(output: string): string {
  const port = /"metricsPort":(\d+)/.exec(output)?.[1];
  return port === undefined ? '' : `  metrics http://127.0.0.1:${port}/metrics`;
}

/** Where Redis is: the single server, or each cluster node with its role. */
async function redisLines(cluster: Cluster | ClusterOnRedisCluster): Promise<string[]> {
  const passwordIn = `password in ${shown(join(cluster.dataDir, 'secrets.env'))}`;
  if ('redis' in cluster) {
    return [
      `redis    redis://127.0.0.1:${cluster.redis.port} (pid ${cluster.redis.process.pid}; ${passwordIn})`,
    ];
  }
  const states = await cluster.redisCluster.nodeStates();
  const nodes = cluster.redisCluster.nodes.map((node) => {
    const state = states.find((s) => s.node === node);
    const slots = state?.slots.map(([from, to]) => `${from}-${to}`).join(',') ?? '';
    return `${node.name.padEnd(13)} 127.0.0.1:${node.port}  pid ${node.process.pid}  ${state?.role ?? '?'} ${slots}`;
  });
  const url = cluster.redisUrl.replace(/:[^:@/]*@/, ':***@');
  const count = (role: string): number => states.filter((s) => s.role === role).length;
  const shape = `${count('master')} masters + ${count('replica')} replicas`;
  return [`redis    Redis Cluster, ${shape}: ${url} (${passwordIn})`, ...nodes];
}

async function printSummary(cluster: Cluster | ClusterOnRedisCluster, tls: boolean): Promise<void> {
  const apiKey = cluster.vars.API_KEYS?.split(',')[0] ?? '';
  const where = (port: number | undefined): string => `http://127.0.0.1:${port}`;
  const lines = [
    `clients  ${cluster.haproxyUrl}  (HAProxy → ${cluster.edges.length} edges; Socket.IO over WebSocket)`,
    `API      ${cluster.apiUrl}  (HAProxy → API; Authorization: Bearer ${apiKey})`,
    `stats    ${cluster.statsUrl}`,
    ...(await redisLines(cluster)),
    ...[...cluster.edges, ...cluster.apis].map((p) => `${p.name.padEnd(8)} ${where(p.port)}  pid ${p.pid}`),
    ...cluster.workers.map((p) => `${p.name.padEnd(8)} pid ${p.pid}${workerMetrics(p.output)}`),
    `metrics  /metrics on every edge and API above, and on each worker's metrics port`,
    `dashboard deploy/grafana/dashboards/holdfast.json: Prometheus and Grafana run with docker compose (http://127.0.0.1:3000); not run locally`,
    `haproxy  pid ${cluster.haproxy.pid} (config: ${shown(join(cluster.dataDir, 'haproxy.cfg'))})`,
    '',
    'try it:',
    `  curl -s${tls ? 'k' : ''} -X POST -H 'authorization: Bearer ${apiKey}' ${cluster.apiUrl}/v1/sessions`,
    `  → connect a Socket.IO client to the clients URL with auth { v: ${PROTOCOL_VERSION}, sessionId, token }`,
    'Ctrl-C stops everything (edges drain first)',
  ];
  for (const line of lines) say(line);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', multiple: true, default: [] },
      tls: { type: 'boolean', default: false },
      'redis-cluster': { type: 'boolean', default: false },
      port: { type: 'string', default: '8000' },
      data: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65533)
    throw new Error(`--port ${values.port}: not a port`);
  const redisCluster = values['redis-cluster'] ?? false;
  // Its own default folder: a single Redis's data and a cluster's nodes never share one.
  const dataDir = resolve(values.data ?? join(REPO_ROOT, 'data', redisCluster ? 'redis-cluster' : 'cluster'));
  mkdirSync(dataDir, { recursive: true });
  const composeFiles = clusterComposeFiles({ redisCluster });

  const running: { cluster?: LocalTopology } = {};
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      say(`${signal} again: killing everything`);
      process.exit(1); // the children are SIGKILLed on exit
    }
    stopping = true;
    say(`${signal}: stopping (services drain, then HAProxy, then Redis)`);
    void (running.cluster?.stop() ?? Promise.resolve()).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  say(`starting ${composeFiles.map(shown).join(' + ')} as local processes (data in ${shown(dataDir)})`);
  const startedAt = Date.now();
  const options = {
    dataDir,
    vars: loadVars(composeFiles, dataDir),
    scale: parseScale(values.scale ?? []),
    tls: values.tls,
    ports: { edges: port, api: port + 1, stats: port + 2 },
    detached: true,
    ...(values.quiet ? {} : { onLine: (name: string, line: string) => console.log(`[${name}] ${line}`) }),
  };
  const cluster = redisCluster
    ? await startCluster({ ...options, redisCluster: true })
    : await startCluster(options);
  running.cluster = cluster;
  if (stopping) {
    await cluster.stop(); // Ctrl-C came during start-up
    return;
  }
  say(`up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  await printSummary(cluster, values.tls ?? false);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(`holdfast cluster: ${error instanceof Error ? error.message : String(error)}`);
    const code = (error as { code?: unknown }).code;
    if (String(code).startsWith('ERR_PARSE_ARGS') || String(error).includes('--')) console.error(USAGE);
    process.exit(1);
  });
}
