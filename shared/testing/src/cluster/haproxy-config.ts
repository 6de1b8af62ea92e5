/**
 * deploy/haproxy.cfg for local processes. The shipped file finds its servers through Docker's DNS
 * (`server-template <prefix> <slots> <service>:<port> ... resolvers docker init-addr none`);
 * locally each such line becomes one `server` line per process of that compose service, with the
 * same options minus the DNS ones. Nothing else changes: the rest is set by LB_* variables.
 */
const SERVER_TEMPLATE = /^(\s*)server-template\s+(\S+)\s+(\S+)\s+([A-Za-z0-9_.-]+):(\d+)(.*)$/;
/** Server options that only make sense with DNS resolution, with their argument. */
const DNS_OPTIONS = new Set(['resolvers', 'init-addr', 'resolve-prefer', 'resolve-opts', 'resolve-net']);

export interface LocalServer {
  readonly host: string;
  readonly port: number;
}

/**
 * `servers` maps a compose service name (the host in a server-template line) to its local
 * processes. Throws if the template routes to a service that has no entry, so a new backend in
 * the template cannot be silently left empty.
 */
export function localHaproxyConfig(
  template: string,
  servers: Readonly<Record<string, readonly LocalServer[]>>,
  source = 'deploy/haproxy.cfg',
): string {
  const lines = template.split('\n').flatMap((line) => {
    const match = SERVER_TEMPLATE.exec(line);
    if (!match) return [line];
    const [, indent = '', prefix = '', , service = '', , rest = ''] = match;
    const local = servers[service];
    if (local === undefined) {
      throw new Error(`${source}: server-template for '${service}', which has no local processes`);
    }
    const options = withoutDnsOptions(rest);
    return local.map(
      (server, i) => `${indent}server ${prefix}${i + 1} ${server.host}:${server.port}${options}`,
    );
  });
  return [
    `# Generated from ${source} by scripts/cluster.ts for local processes: edit that file.`,
    ...lines,
  ].join('\n');
}

function withoutDnsOptions(rest: string): string {
  const words = rest.trim().split(/\s+/).filter(Boolean);
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word.startsWith('#')) {
      kept.push(...words.slice(i));
      break;
    }
    if (DNS_OPTIONS.has(word)) {
      i++; // and its argument
      continue;
    }
    kept.push(word);
  }
  return kept.length === 0 ? '' : ` ${kept.join(' ')}`;
}
