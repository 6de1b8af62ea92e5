// @holdfast/testing: what the tests, the cluster runner (scripts/cluster.ts), npm start
// (scripts/start.ts), scripts/probe-latency.ts and the benchmarks share. Development only: it is
// run from its sources, never built, never in the image, and no product package may import it
// (test/unit/import-boundaries.test.ts).

// Waiting and ports.
export { freePort } from './free-port.js';
export { waitFor, type WaitForOptions } from './wait-for.js';
export { REPO_ROOT } from './repo-root.js';
// A seeded PRNG: chaos schedules and benchmark workloads replay from a seed.
export { Random, randomSeed } from './random.js';

// A real redis-server per test (kill, restart, pause, AOF truncation, kill-on-exit).
export { RedisServer } from './redis-server.js';
export type { AppendFsync, RedisRestartOptions, RedisServerOptions } from './redis-config.js';
export { REDIS_NOT_INSTALLED } from './redis-binary.js';
export { truncateAofTailIn, type AofTruncation } from './aof-files.js';
// A real Redis Cluster of local redis-server processes (failover, slot moves).
export { RedisCluster, type ClusterNodeRole, type RedisClusterOptions } from './redis-cluster.js';
export { showsWholeCluster } from './cluster-view.js';

// Tokens the services under test accept.
export { TEST_TOKEN_SECRET, tokenFor } from './tokens.js';

// Service processes: the generic child process, a service run from its sources, and one class each.
export { ServiceProcess, type ExitInfo, type ServiceProcessOptions } from './service-process.js';
export { SourceServiceProcess } from './source-service-process.js';
export { EdgeProcess } from './edge-process.js';
export { ApiProcess } from './api-process.js';
export { WorkerProcess, type WorkerProcessOptions } from './worker-process.js';

// The cluster runner: docker-compose.yml (and docker-compose.redis-cluster.yml) run as local
// processes behind a local HAProxy.
export { clusterComposeFiles, REDIS_CLUSTER_COMPOSE_FILE, startCluster } from './cluster/start-cluster.js';
export type {
  Cluster,
  ClusterOnRedisCluster,
  ClusterOptions,
  LocalTopology,
} from './cluster/cluster-types.js';
export {
  composeRequiredVariables,
  hostPathFor,
  loadComposeFile,
  parseComposeDuration,
  type ComposeFile,
  type ComposeService,
  type VolumeMount,
} from './cluster/compose-file.js';
export { localHaproxyConfig, type LocalServer } from './cluster/haproxy-config.js';
export {
  MissingVariableError,
  interpolate,
  requiredVariables,
  type Variables,
} from './cluster/interpolate.js';
export { startLocalHaproxy, type LocalHaproxy, type LocalHaproxyOptions } from './cluster/local-haproxy.js';
export { startLocalRedis, type LocalRedis, type LocalRedisOptions } from './cluster/local-redis.js';
export {
  startLocalRedisCluster,
  type ClusterNodeState,
  type LocalRedisCluster,
  type LocalRedisClusterOptions,
  type LocalRedisNode,
} from './cluster/local-redis-cluster.js';
export { composeRoles, type ComposeRoles, type RedisRole } from './cluster/compose-roles.js';

// npm start's settings, and the browser bundle the demo page and the client bundle tests use.
export { loadStartConfig, startEnvSchema, type StartConfig } from './start-config.js';
export { buildBrowserBundle, type BrowserBundle } from './browser-bundle.js';
