import type { ComposeFile, ComposeService } from './compose-file.js';

/** What each compose service is to the local runner, found from its image and command. */
export interface ComposeRoles {
  readonly redis: RedisRole;
  readonly haproxy: ComposeService;
  /** Holdfast services (`node services/<svc>/dist/main.js`). */
  readonly nodeServices: readonly ComposeService[];
}

export type RedisRole =
  | { readonly kind: 'single'; readonly server: ComposeService }
  | {
      readonly kind: 'cluster';
      /** The nodes, in file order. */
      readonly nodes: readonly ComposeService[];
      /** The one-shot job that forms the cluster. */
      readonly init: ComposeService;
    };

/** Images of the compose file's monitoring services, which the local cluster does not run. */
const OBSERVABILITY_IMAGES = ['prom/prometheus', 'grafana/grafana'];

/**
 * Sorts the services that run (those without `profiles`: the runner enables none) into Redis,
 * HAProxy and Holdfast services. Redis is one redis-server, or several (cluster nodes) with one
 * redis-image job that forms the cluster. A service of any other kind throws: the runner would
 * otherwise silently run less than compose does.
 */
export function composeRoles(compose: ComposeFile): ComposeRoles {
  const redisServers: ComposeService[] = [];
  const redisJobs: ComposeService[] = [];
  let haproxy: ComposeService | undefined;
  const nodeServices: ComposeService[] = [];
  for (const service of Object.values(compose.services)) {
    if (service.profiles.length > 0) continue;
    if (service.image?.startsWith('redis')) {
      (service.command?.[0] === 'redis-server' ? redisServers : redisJobs).push(service);
    } else if (service.image?.startsWith('haproxy')) haproxy = service;
    else if (service.command?.[0] === 'node') nodeServices.push(service);
    // Prometheus and Grafana run under Docker only; locally, each service's /metrics is there to scrape.
    else if (OBSERVABILITY_IMAGES.some((prefix) => service.image?.startsWith(prefix))) continue;
    else throw new Error(`${compose.path}: no local equivalent for service '${service.name}'`);
  }
  if (haproxy === undefined) throw new Error(`${compose.path}: expected a haproxy service`);
  const [first, ...more] = redisServers;
  if (first === undefined) throw new Error(`${compose.path}: expected a redis service`);
  if (more.length === 0 && redisJobs.length === 0) {
    return { redis: { kind: 'single', server: first }, haproxy, nodeServices };
  }
  const [init, ...otherJobs] = redisJobs;
  if (more.length === 0 || init === undefined || otherJobs.length > 0) {
    throw new Error(
      `${compose.files.join(' + ')}: expected one redis service, or cluster nodes and one job forming ` +
        `the cluster; found servers [${redisServers.map((s) => s.name).join(', ')}] and jobs ` +
        `[${redisJobs.map((s) => s.name).join(', ')}]`,
    );
  }
  return { redis: { kind: 'cluster', nodes: redisServers, init }, haproxy, nodeServices };
}
