import type { ComposeFile } from './compose-file.js';
import type { LocalRedis } from './local-redis.js';
import type { LocalRedisCluster } from './local-redis-cluster.js';
import type { ServiceProcess } from '../service-process.js';

/** startCluster()'s options and what it returns: the compose topology as local processes. */

export interface ClusterOptions {
  /** @default <repo>/docker-compose.yml */
  composeFile?: string;
  /** Files merged over composeFile, in order, like further `docker compose -f` files. @default [] */
  overrideFiles?: readonly string[];
  /**
   * Redis as a 6-node Redis Cluster: merges <repo>/docker-compose.redis-cluster.yml after the
   * other files (`npm run cluster -- --redis-cluster`). @default false
   */
  redisCluster?: boolean;
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
  /** Fixed ports; absent or 0 = a free one. `redis` applies to a single Redis only. */
  ports?: { edges?: number; api?: number; stats?: number; redis?: number };
  /** Every line any process prints, with its name (`edge-1`, `haproxy`, ...). @default kept in memory only */
  onLine?: (name: string, line: string) => void;
  /** Children in their own process groups (see ServiceProcess). @default false */
  detached?: boolean;
  /**
   * The port one service process (`edge-2`, `worker-1`, `api-1`, ...) reaches Redis on, given
   * Redis's own port. The chaos suite puts a fault proxy on each process's link this way, so a
   * fault can hit one service's Redis connection. A single Redis only: cluster clients follow
   * the addresses the nodes announce. @default every process connects to Redis directly
   */
  redisLink?: (processName: string, redisPort: number) => Promise<number>;
}

/** What both Redis shapes share. */
export interface LocalTopology {
  /** HAProxy's client frontend: where clients open their WebSockets. */
  readonly haproxyUrl: string;
  /** The HTTP API through HAProxy's API frontend. */
  readonly apiUrl: string;
  /** HAProxy's stats page (`;csv` for machines). */
  readonly statsUrl: string;
  /** Redis as the services reach it, with the password: `redis://…` or `redis+cluster://…`. */
  readonly redisUrl: string;
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

/** docker-compose.yml's topology: one Redis. */
export interface Cluster extends LocalTopology {
  readonly redis: LocalRedis;
}

/** With docker-compose.redis-cluster.yml: a Redis Cluster of 3 masters + 3 replicas. */
export interface ClusterOnRedisCluster extends LocalTopology {
  readonly redisCluster: LocalRedisCluster;
}
