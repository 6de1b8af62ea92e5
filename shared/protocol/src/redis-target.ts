/**
 * Where a deployment's Redis is, as every service and tool is told it: one string, so the
 * REDIS_URL variable, the CLI's --redis-url and the producer library's `redis` option carry a
 * cluster as well as a single server.
 *
 * - `redis://…` / `rediss://…`: one server (standalone), passed to ioredis unchanged.
 * - `redis+cluster://[user[:password]@]host:port[,host:port…]` (or `rediss+cluster://` for TLS):
 *   a Redis Cluster, given by some of its nodes (the client discovers the rest). Credentials
 *   and TLS apply to every node, as they would to a single server.
 *
 * Parsing lives here, beside the other identifier rules, so the services' configuration can
 * reject a bad value at start with a sentence naming the problem, and the connection factory
 * (session log) reads the same structure.
 */

export interface ClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | { readonly kind: 'standalone'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly ClusterNodeAddress[];
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly tls: boolean;
    };

const CLUSTER_SCHEMES = { 'redis+cluster:': false, 'rediss+cluster:': true } as const;

/** True when `text` names a cluster (it may still be malformed: see parseRedisTarget). */
export function isClusterUrl(text: string): boolean {
  const scheme = text.slice(0, text.indexOf('//')).toLowerCase();
  return scheme in CLUSTER_SCHEMES;
}

/** Parse a Redis URL; throws an Error whose message says what is wrong and what is expected. */
export function parseRedisTarget(text: string): RedisTarget {
  if (isClusterUrl(text)) return parseClusterUrl(text);
  // A scheme and something after it; ioredis parses the rest. (Not the URL global: this package
  // builds without DOM or Node types, for the browser SDK too.)
  if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text)) {
    throw new Error('not a URL: expected redis://host:port or redis+cluster://host:port,host:port');
  }
  // Any other URL goes to ioredis as it is, as before clusters were supported.
  return { kind: 'standalone', url: text };
}

function parseClusterUrl(text: string): RedisTarget {
  const schemeEnd = text.indexOf('//');
  const tls = CLUSTER_SCHEMES[text.slice(0, schemeEnd).toLowerCase() as keyof typeof CLUSTER_SCHEMES];
  let rest = text.slice(schemeEnd + 2);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (/[/?#]/.test(rest)) {
    throw new Error(
      'a redis+cluster:// URL takes no path, database or query (a cluster has database 0 only)',
    );
  }
  const at = rest.lastIndexOf('@');
  const userInfo = at >= 0 ? rest.slice(0, at) : undefined;
  const hosts = at >= 0 ? rest.slice(at + 1) : rest;
  const nodes = hosts
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (nodes.length === 0) throw new Error('a redis+cluster:// URL needs at least one host:port');
  let username: string | undefined;
  let password: string | undefined;
  if (userInfo !== undefined) {
    const colon = userInfo.indexOf(':');
    const user = decode(colon >= 0 ? userInfo.slice(0, colon) : userInfo);
    username = user === '' ? undefined : user;
    password = colon >= 0 ? decode(userInfo.slice(colon + 1)) : undefined;
  }
  return { kind: 'cluster', nodes: nodes.map(parseNode), username, password, tls };
}

function parseNode(item: string): ClusterNodeAddress {
  // [v6]:port or host:port
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(item);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`cluster node "${item}" is not host:port (port 1-65535)`);
  }
  const host = match[1].startsWith('[') ? match[1].slice(1, -1) : match[1];
  return { host, port };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error('the user or password of the URL is not valid percent-encoding');
  }
}

/** The target with its password hidden, for logs and error messages. */
export function redactRedisUrl(text: string): string {
  return text.replace(/^([a-z+]+:\/\/)([^@/]*:)[^@/]*@/i, '$1$2***@');
}
