import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  composeRequiredVariables,
  hostPathFor,
  loadComposeFile,
  type ComposeFile,
  type ComposeService,
} from './compose-file.js';
import { freePort } from '../free-port.js';
import { REPO_ROOT } from '../repo-root.js';
import type { LocalServer } from './haproxy-config.js';
import { startLocalHaproxy } from './local-haproxy.js';
import { startLocalRedis, type LocalRedis } from './local-redis.js';
import { ServiceProcess } from '../service-process.js';

const HOST = '127.0.0.1';
/** Where the haproxy image reads its configuration and where compose mounts the certificates. */
const HAPROXY_CONFIG_TARGET = '/usr/local/etc/haproxy/haproxy.cfg';
const HAPROXY_CERT_TARGET = '/usr/local/etc/haproxy/certs/holdfast.pem';
const REDIS_CONTAINER_PORT = 6379;

export interface ClusterOptions {
  /** @default <repo>/docker-compose.yml */
  composeFile?: string;
  /** Redis data and the rendered HAProxy config. @default a new temp dir, deleted by stop() */
  dataDir?: string;
  /** Processes per compose service, like `docker compose up --scale edge=5`. @default its deploy.replicas */
  scale?: Readonly<Record<string, number>>;
  /**
   * Compose variables (REDIS_PASSWORD, TOKEN_HS256_SECRETS, API_KEYS, ...). Required ones that
   * are missing get a random 64-hex-digit value. @default {}
   */
  vars?: Readonly<Record<string, string>>;
  /** Environment per compose service, over the file's (tests shorten drains with it). */
  env?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** HAProxy terminates TLS with the dev certificate instead of serving plain HTTP. @default false */
  tls?: boolean;
  /** Folder of holdfast.pem for `tls`; made by deploy/make-dev-cert.sh if missing. @default the compose mount's */
  certDir?: string;
  /** HAProxy's health check interval (LB_CHECK_INTER), short so a dead edge leaves rotation fast. @default '500ms' */
  checkInterval?: string;
  /** Fixed ports; absent or 0 = a free one. */
  ports?: { edges?: number; api?: number; stats?: number; redis?: number };
  /** Every line any process prints, with its name (`edge-1`, `haproxy`, ...). @default kept in memory only */
  onLine?: (name: string, line: string) => void;
  /** Children in their own process groups (see ServiceProcess). @default false */
  detached?: boolean;
  /**
   * The port one service process (`edge-2`, `worker-1`, `api-1`, ...) reaches Redis on, given
   * Redis's own port. The chaos suite puts a fault proxy on each process's link this way, so a
   * fault can hit one service's Redis connection. @default every process connects to Redis directly
   */
  redisLink?: (processName: string, redisPort: number) => Promise<number>;
}

export interface Cluster {
  /** HAProxy's client frontend: where clients open their WebSockets. */
  readonly haproxyUrl: string;
  /** The HTTP API through HAProxy's API frontend. */
  readonly apiUrl: string;
  /** HAProxy's stats page (`;csv` for machines). */
  readonly statsUrl: string;
  readonly redis: LocalRedis;
  /** One per edge replica, in HAProxy's order (edge-1 is server edge1). */
  readonly edges: readonly ServiceProcess[];
  readonly workers: readonly ServiceProcess[];
  readonly apis: readonly ServiceProcess[];
  readonly haproxy: ServiceProcess;
  /** The compose variables used, generated secrets included. */
  readonly vars: Readonly<Record<string, string>>;
  readonly compose: ComposeFile;
  readonly dataDir: string;
  /** HAProxy's view of each server: `edges/edge1` → `UP`, `DOWN`, `DOWN 1/2`, `MAINT`, ... */
  serverStatus(): Promise<Record<string, string>>;
  /** Waits until HAProxy has every server of every backend UP. */
  waitForServersUp(timeoutMs?: number): Promise<void>;
  /** Stops the services (SIGTERM: edges drain), then HAProxy, then Redis. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs docker-compose.yml as local processes: a redis-server with the compose Redis settings,
 * every Holdfast service (`node services/<svc>/dist/main.js` becomes `node --conditions=source
 * --import tsx services/<svc>/src/main.ts`) with the compose environment, its hostnames and ports
 * rewritten to the local ones, and HAProxy with deploy/haproxy.cfg, its server-template lines
 * replaced by the local processes. Resolves once HAProxy sees every server UP.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const composePath = options.composeFile ?? join(REPO_ROOT, 'docker-compose.yml');
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'holdfast-cluster-')));
  const vars: Record<string, string> = { ...options.vars };
  for (const name of composeRequiredVariables(composePath)) vars[name] ??= randomBytes(32).toString('hex');
  const compose = loadComposeFile(composePath, vars);
  requireBinaries();

  const started: ServiceProcess[] = [];
  const common = {
    ...(options.onLine === undefined ? {} : { onLine: options.onLine }),
    detached: options.detached ?? false,
  };
  const run = async (service: ServiceProcess): Promise<ServiceProcess> => {
    started.push(service);
    await service.start();
    return service;
  };
  const stopAll = async (): Promise<void> => {
    const services = started.filter((p) => p.name !== 'redis' && p.name !== 'haproxy');
    await Promise.all(services.map((p) => p.stop(graceOf(compose, p))));
    await Promise.all(started.filter((p) => p.name === 'haproxy').map((p) => p.stop(5_000)));
    await Promise.all(started.filter((p) => p.name === 'redis').map((p) => p.stop(30_000)));
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const { redisService, haproxyService, nodeServices } = classify(compose);

    // Redis first: everything else connects to it.
    const redis = await startLocalRedis({
      command: (redisService.command ?? ['redis-server']).map((arg) => hostPathFor(redisService, arg) ?? arg),
      dir: join(dataDir, 'redis'),
      ...(options.ports?.redis === undefined ? {} : { port: options.ports.redis }),
      ...common,
    });
    started.push(redis.process);

    // Every service port gets a local one; `<service>:<container port>` in URLs is rewritten to it.
    const endpoints = new Map<string, string>([
      [`${redisService.name}:${REDIS_CONTAINER_PORT}`, `${HOST}:${redis.port}`],
    ]);
    const plans = await Promise.all(
      nodeServices.map(async (service) => {
        const count = options.scale?.[service.name] ?? service.replicas;
        const containerPort = service.environment.PORT;
        const ports = await Promise.all(
          Array.from({ length: count }, () => (containerPort === undefined ? undefined : freePort())),
        );
        const first = ports[0];
        if (containerPort !== undefined && first !== undefined) {
          endpoints.set(`${service.name}:${containerPort}`, `${HOST}:${first}`);
        }
        return { service, ports };
      }),
    );
    const byService = new Map<string, ServiceProcess[]>();
    const redisEndpoint = `${redisService.name}:${REDIS_CONTAINER_PORT}`;
    await Promise.all(
      plans.flatMap(({ service, ports }) =>
        ports.map(async (port, i) => {
          const linkPort = await options.redisLink?.(processName(service, i), redis.port);
          // Only this process's Redis address changes; every other endpoint is shared.
          const own =
            linkPort === undefined
              ? endpoints
              : new Map([...endpoints, [redisEndpoint, `${HOST}:${linkPort}`]]);
          const child = nodeProcess(service, i, port, own, options, common);
          const list = byService.get(service.name) ?? [];
          list[i] = child;
          byService.set(service.name, list);
          await run(child);
        }),
      ),
    );

    // HAProxy last, with one server line per local process of each service it routes to.
    const templatePath = hostPathFor(haproxyService, HAPROXY_CONFIG_TARGET);
    if (templatePath === undefined) {
      throw new Error(`${haproxyService.name}: no volume mounts a config file at ${HAPROXY_CONFIG_TARGET}`);
    }
    const servers: Record<string, LocalServer[]> = {};
    for (const [name, processes] of byService) {
      servers[name] = processes.flatMap((p) => (p.port === undefined ? [] : [{ host: HOST, port: p.port }]));
    }
    const lb = await startLocalHaproxy({
      templatePath,
      servers,
      dir: dataDir,
      env: haproxyService.environment,
      ...(options.tls ? { tlsCert: await devCertificate(options.certDir ?? certDirOf(haproxyService)) } : {}),
      ...(options.checkInterval === undefined ? {} : { checkInterval: options.checkInterval }),
      ...(options.ports === undefined ? {} : { ports: options.ports }),
      ...common,
    });
    started.push(lb.process);

    const cluster: Cluster = {
      haproxyUrl: lb.edgesUrl,
      apiUrl: lb.apiUrl,
      statsUrl: lb.statsUrl,
      redis,
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
    await cluster.waitForServersUp();
    return cluster;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Images of the compose file's monitoring services, which the local cluster does not run. */
const OBSERVABILITY_IMAGES = ['prom/prometheus', 'grafana/grafana'];

function classify(compose: ComposeFile): {
  redisService: ComposeService;
  haproxyService: ComposeService;
  nodeServices: ComposeService[];
} {
  let redisService: ComposeService | undefined;
  let haproxyService: ComposeService | undefined;
  const nodeServices: ComposeService[] = [];
  for (const service of Object.values(compose.services)) {
    if (service.image?.startsWith('redis')) redisService = service;
    else if (service.image?.startsWith('haproxy')) haproxyService = service;
    else if (service.command?.[0] === 'node') nodeServices.push(service);
    // Prometheus and Grafana run under Docker only; locally, each service's /metrics is there to scrape.
    else if (OBSERVABILITY_IMAGES.some((prefix) => service.image?.startsWith(prefix))) continue;
    else throw new Error(`${compose.path}: no local equivalent for service '${service.name}'`);
  }
  if (!redisService || !haproxyService) {
    throw new Error(`${compose.path}: expected a redis service and a haproxy service`);
  }
  return { redisService, haproxyService, nodeServices };
}

/** `node services/x/dist/main.js` → `node --conditions=source --import tsx <repo>/services/x/src/main.ts`. */
function nodeProcess(
  service: ComposeService,
  index: number,
  port: number | undefined,
  endpoints: ReadonlyMap<string, string>,
  options: ClusterOptions,
  common: { onLine?: ClusterOptions['onLine']; detached: boolean },
): ServiceProcess {
  const [, ...args] = service.command ?? [];
  const script = args.find((arg) => /\/dist\/.+\.js$/.test(arg));
  if (script === undefined) throw new Error(`${service.name}: expected a command running a dist/*.js file`);
  const source = join(REPO_ROOT, script.replace(/\/dist\/(.+)\.js$/, '/src/$1.ts'));
  const env: Record<string, string> = { ...baseEnv() };
  for (const [key, value] of Object.entries(service.environment)) env[key] = localize(value, endpoints);
  if (port !== undefined) Object.assign(env, { PORT: String(port), HOST });
  // Replicas share this host: each worker's metrics listener takes a free port (in its ready line).
  if (env.METRICS_PORT !== undefined) Object.assign(env, { METRICS_PORT: '0', METRICS_HOST: HOST });
  Object.assign(env, options.env?.[service.name]);
  return new ServiceProcess({
    ...common,
    name: processName(service, index),
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', source],
    env,
    cwd: REPO_ROOT,
    ...(port === undefined ? {} : { port }),
    ready:
      port === undefined
        ? (p) => /"msg":"[^"]*ready"/.test(p.output)
        : async () => (await fetch(`http://${HOST}:${port}/readyz`)).ok,
  });
}

function processName(service: ComposeService, index: number): string {
  return `${service.name}-${index + 1}`;
}

/** Rewrites `scheme://[user@]service:port` to the local address of that service's port. */
function localize(value: string, endpoints: ReadonlyMap<string, string>): string {
  return value.replace(
    /(\/\/(?:[^@/\s]*@)?)([A-Za-z0-9][A-Za-z0-9_.-]*:\d+)/g,
    (match, prefix: string, hostPort: string) => {
      const local = endpoints.get(hostPort);
      return local === undefined ? match : `${prefix}${local}`;
    },
  );
}

/** What a child needs from this process's environment: nothing of the user's settings leaks in. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

function graceOf(compose: ComposeFile, child: ServiceProcess): number {
  const service = child.name.replace(/-\d+$/, '');
  return compose.services[service]?.stopGracePeriodMs ?? 10_000;
}

function requireBinaries(): void {
  for (const binary of ['redis-server', 'haproxy']) {
    if (spawnSync(binary, ['-v']).error) {
      throw new Error(
        `${binary} is not installed: run \`npm run setup\` (Debian/Ubuntu: apt-get install ${binary})`,
      );
    }
  }
}

function certDirOf(haproxy: ComposeService): string {
  const pem = hostPathFor(haproxy, HAPROXY_CERT_TARGET);
  if (pem === undefined) throw new Error(`${haproxy.name}: no volume mounts ${HAPROXY_CERT_TARGET}`);
  return dirname(pem);
}

/** The dev certificate in `dir`, made with deploy/make-dev-cert.sh when missing. */
async function devCertificate(dir: string): Promise<string> {
  const pem = join(dir, 'holdfast.pem');
  if (!existsSync(pem)) {
    const made = spawnSync('sh', [join(REPO_ROOT, 'deploy', 'make-dev-cert.sh'), dir], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`deploy/make-dev-cert.sh failed: ${made.stderr || made.stdout}`);
  }
  return pem;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
