import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hostPathFor, type ComposeService } from './compose-file.js';
import { freePort } from '../free-port.js';
import { REPO_ROOT } from '../repo-root.js';
import { localHaproxyConfig, type LocalServer } from './haproxy-config.js';
import { ServiceProcess } from '../service-process.js';

const HOST = '127.0.0.1';
/** Where compose mounts the certificate into the haproxy image. */
const HAPROXY_CERT_TARGET = '/usr/local/etc/haproxy/certs/holdfast.pem';

export interface LocalHaproxyOptions {
  /** deploy/haproxy.cfg (the file compose mounts). */
  readonly templatePath: string;
  /** Local processes per compose service the template routes to. */
  readonly servers: Readonly<Record<string, readonly LocalServer[]>>;
  /** Where the rendered config goes. */
  readonly dir: string;
  /** The compose haproxy service's environment; the local LB_* settings go over it. */
  readonly env?: Readonly<Record<string, string>>;
  /** PEM (certificate + key) to terminate TLS with; absent = plain HTTP (LB_PLAIN_HTTP). */
  readonly tlsCert?: string;
  /** LB_CHECK_INTER. @default '500ms' */
  readonly checkInterval?: string;
  /** Absent or 0 = a free port. */
  readonly ports?: { readonly edges?: number; readonly api?: number; readonly stats?: number };
  readonly onLine?: (name: string, line: string) => void;
  readonly detached?: boolean;
}

export interface LocalHaproxy {
  readonly process: ServiceProcess;
  /** The client (edge) frontend. */
  readonly edgesUrl: string;
  readonly apiUrl: string;
  readonly statsUrl: string;
  /** HAProxy's view of each server: `edges/edge1` → `UP`, `DOWN`, `DOWN 1/2`, `MAINT`, ... */
  serverStatus(): Promise<Record<string, string>>;
  /** Waits until every server of every backend is UP. */
  waitForServersUp(timeoutMs?: number): Promise<void>;
}

/** HAProxy from the shipped template, routing to local processes, started and answering. */
export async function startLocalHaproxy(options: LocalHaproxyOptions): Promise<LocalHaproxy> {
  const configPath = join(options.dir, 'haproxy.cfg');
  const template = await readFile(options.templatePath, 'utf8');
  await writeFile(configPath, localHaproxyConfig(template, options.servers, options.templatePath));
  const portOr = async (port: number | undefined): Promise<number> => (port ? port : freePort());
  const [edgesPort, apiPort, statsPort] = await Promise.all([
    portOr(options.ports?.edges),
    portOr(options.ports?.api),
    portOr(options.ports?.stats),
  ]);
  const statsUrl = `http://${HOST}:${statsPort}/`;
  const env: Record<string, string> = {
    ...(process.env.PATH === undefined ? {} : { PATH: process.env.PATH }),
    ...options.env,
    LB_EDGE_BIND: `${HOST}:${edgesPort}`,
    LB_API_BIND: `${HOST}:${apiPort}`,
    LB_STATS_BIND: `${HOST}:${statsPort}`,
    LB_CHECK_INTER: options.checkInterval ?? '500ms',
    LB_MAXCONN: '4096',
    ...(options.tlsCert === undefined ? { LB_PLAIN_HTTP: '1' } : { LB_TLS_CERT: options.tlsCert }),
  };
  const haproxy = new ServiceProcess({
    name: 'haproxy',
    command: 'haproxy',
    args: ['-db', '-f', configPath],
    env,
    cwd: options.dir,
    ready: async () => (await fetch(`${statsUrl};csv`)).ok,
    ...(options.onLine ? { onLine: options.onLine } : {}),
    ...(options.detached === undefined ? {} : { detached: options.detached }),
  });
  await haproxy.start();
  const scheme = options.tlsCert === undefined ? 'http' : 'https';
  const serverStatus = () => haproxyServerStatus(statsUrl);
  return {
    process: haproxy,
    edgesUrl: `${scheme}://${HOST}:${edgesPort}`,
    apiUrl: `${scheme}://${HOST}:${apiPort}`,
    statsUrl,
    serverStatus,
    waitForServersUp: (timeoutMs = 15_000) => waitForAllUp(serverStatus, timeoutMs),
  };
}

/** Rows of HAProxy's stats CSV for real servers: `backend/server` → status. */
async function haproxyServerStatus(statsUrl: string): Promise<Record<string, string>> {
  const res = await fetch(`${statsUrl};csv`);
  if (!res.ok) throw new Error(`HAProxy stats answered ${res.status}`);
  const [header = '', ...rows] = (await res.text()).trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const [pxname, svname, status] = ['pxname', 'svname', 'status'].map((name) => columns.indexOf(name));
  const result: Record<string, string> = {};
  for (const row of rows) {
    const cells = row.split(',');
    const server = cells[svname ?? -1] ?? '';
    if (server === 'FRONTEND' || server === 'BACKEND') continue;
    result[`${cells[pxname ?? -1] ?? ''}/${server}`] = cells[status ?? -1] ?? '';
  }
  return result;
}

async function waitForAllUp(status: () => Promise<Record<string, string>>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, string> = {};
  for (;;) {
    last = await status().catch(() => last);
    const servers = Object.values(last);
    if (servers.length > 0 && servers.every((s) => s === 'UP')) return;
    if (Date.now() > deadline) {
      throw new Error(`HAProxy servers not all UP within ${timeoutMs} ms: ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The dev certificate for TLS: holdfast.pem in `certDir`, by default the folder compose mounts
 * into the haproxy service; made with deploy/make-dev-cert.sh when missing.
 */
export async function devCertificate(haproxy: ComposeService, certDir?: string): Promise<string> {
  const dir = certDir ?? certDirOf(haproxy);
  const pem = join(dir, 'holdfast.pem');
  if (!existsSync(pem)) {
    const made = spawnSync('sh', [join(REPO_ROOT, 'deploy', 'make-dev-cert.sh'), dir], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`deploy/make-dev-cert.sh failed: ${made.stderr || made.stdout}`);
  }
  return pem;
}

function certDirOf(haproxy: ComposeService): string {
  const pem = hostPathFor(haproxy, HAPROXY_CERT_TARGET);
  if (pem === undefined) throw new Error(`${haproxy.name}: no volume mounts ${HAPROXY_CERT_TARGET}`);
  return dirname(pem);
}
