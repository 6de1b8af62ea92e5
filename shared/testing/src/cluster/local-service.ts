import { join } from 'node:path';
import type { ComposeService } from './compose-file.js';
import { REPO_ROOT } from '../repo-root.js';
import { ServiceProcess } from '../service-process.js';

/** How compose services become local processes: names, environments, addresses. */

export const LOCAL_HOST = '127.0.0.1';

/** What every local child of the cluster shares. */
export interface ChildSettings {
  readonly onLine?: (name: string, line: string) => void;
  readonly detached: boolean;
}

/** `edge-1`, `worker-2`, ...: the compose service and the replica's number. */
export function processName(service: ComposeService, index: number): string {
  return `${service.name}-${index + 1}`;
}

/**
 * `node services/x/dist/main.js` → `node --conditions=source --import tsx <repo>/services/x/src/main.ts`,
 * with the service's environment localized, its own PORT, and `extraEnv` over it all.
 */
export function nodeServiceProcess(
  service: ComposeService,
  index: number,
  port: number | undefined,
  endpoints: ReadonlyMap<string, string>,
  extraEnv: Readonly<Record<string, string>> | undefined,
  settings: ChildSettings,
): ServiceProcess {
  const [, ...args] = service.command ?? [];
  const script = args.find((arg) => /\/dist\/.+\.js$/.test(arg));
  if (script === undefined) throw new Error(`${service.name}: expected a command running a dist/*.js file`);
  const source = join(REPO_ROOT, script.replace(/\/dist\/(.+)\.js$/, '/src/$1.ts'));
  const env = localEnvironment(service, endpoints);
  if (port !== undefined) Object.assign(env, { PORT: String(port), HOST: LOCAL_HOST });
  // Replicas share this host: each worker's metrics listener takes a free port (in its ready line).
  if (env.METRICS_PORT !== undefined) Object.assign(env, { METRICS_PORT: '0', METRICS_HOST: LOCAL_HOST });
  Object.assign(env, extraEnv);
  return new ServiceProcess({
    ...settings,
    name: processName(service, index),
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', source],
    env,
    cwd: REPO_ROOT,
    ...(port === undefined ? {} : { port }),
    ready:
      port === undefined
        ? (p) => /"msg":"[^"]*ready"/.test(p.output)
        : async () => (await fetch(`http://${LOCAL_HOST}:${port}/readyz`)).ok,
  });
}

/** The service's compose environment with its addresses made local, over a minimal base. */
export function localEnvironment(
  service: ComposeService,
  endpoints: ReadonlyMap<string, string>,
): Record<string, string> {
  const env = baseEnv();
  for (const [key, value] of Object.entries(service.environment)) env[key] = localize(value, endpoints);
  return env;
}

/**
 * Rewrites every `host:port` that names a compose service's port (a key of `endpoints`) to its
 * local address: after `//` or `@` in a URL, and in comma- or space-separated lists, as a
 * cluster URL (`redis+cluster://:pw@redis-node-1:6379,redis-node-2:6379`) and the cluster init
 * job's node list have them. `user:secret@` is never taken for an address (an `@` follows it).
 */
export function localize(value: string, endpoints: ReadonlyMap<string, string>): string {
  return value.replace(
    /(^|\/\/|@|,|\s)([A-Za-z0-9][A-Za-z0-9_.-]*:\d+)(?=$|[/,\s?#])/g,
    (match, before: string, hostPort: string) => {
      const local = endpoints.get(hostPort);
      return local === undefined ? match : `${before}${local}`;
    },
  );
}

/** What a child needs from this process's environment: nothing of the user's settings leaks in. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}
