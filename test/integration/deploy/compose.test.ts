/**
 * Static checks of the deployment files (no Docker engine here): docker-compose.yml sets only
 * variables the services' config schemas know, sets everything they require, gives every service
 * time to shut down gracefully; deploy/haproxy.cfg passes `haproxy -c` as shipped and as run
 * locally, and its timeouts fit the edges' heartbeats; Redis is configured for durability.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEnvSchema, loadApiConfig } from '@holdfast/api';
import { edgeEnvSchema, loadEdgeConfig } from '@holdfast/edge';
import { loadWorkerConfig, workerEnvSchema } from '@holdfast/worker';
import {
  REPO_ROOT,
  parseComposeDuration,
  type ComposeService,
  localHaproxyConfig,
  MissingVariableError,
  interpolate,
} from '@holdfast/testing';
import {
  DOCKERFILE,
  HAPROXY_CFG,
  REDIS_CONF,
  devSecrets,
  haproxyDuration,
  haproxySetting,
  loadShippedCompose,
  makeDevCert,
  runCommand,
} from './deploy-files.js';
import {
  DATASOURCE_YML,
  GRAFANA_DIR,
  PROMETHEUS_YML,
  ALERTS_YML,
  DASHBOARD_JSON,
  dashboard,
  yamlFile,
} from './monitoring-files.js';

/** The worker exits this long after SHUTDOWN_TIMEOUT_MS at the latest (HARD_EXIT_AFTER_GRACE_MS in its main.ts). */
const WORKER_HARD_EXIT_MARGIN_MS = 10_000;

const secrets = devSecrets();
const compose = loadShippedCompose(secrets);
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service '${name}'`);
  return found;
};

/** What these checks need of a zod object schema: its fields, each parseable on its own. */
interface AnyObjectSchema {
  shape: Record<string, { safeParse(value: unknown): { success: boolean } }>;
}
const holdfastServices: Array<{
  name: string;
  schema: AnyObjectSchema;
  load: (env: NodeJS.ProcessEnv) => unknown;
}> = [
  { name: 'edge', schema: edgeEnvSchema, load: loadEdgeConfig },
  { name: 'api', schema: apiEnvSchema, load: loadApiConfig },
  { name: 'worker', schema: workerEnvSchema, load: loadWorkerConfig },
];

describe('docker-compose.yml: service environments', () => {
  it.each(holdfastServices)('$name sets only variables its config schema knows', ({ name, schema }) => {
    const known = new Set(Object.keys(schema.shape));
    const unknown = Object.keys(service(name).environment).filter((key) => !known.has(key));
    expect(unknown, `${name}: variables its schema would silently ignore`).toEqual([]);
  });

  it.each(holdfastServices)(
    '$name sets every variable its schema requires, and the whole config loads',
    ({ name, schema, load }) => {
      const env = service(name).environment;
      const required = Object.entries(schema.shape)
        .filter(([, field]) => !field.safeParse(undefined).success)
        .map(([key]) => key);
      expect(required.filter((key) => env[key] === undefined)).toEqual([]);
      // The full loader also runs the cross-field rules (a token key is set, secrets long enough).
      expect(() => load(env)).not.toThrow();
    },
  );

  it('gives every service the same Redis, key prefix and token settings', () => {
    const [edge, api, worker] = ['edge', 'api', 'worker'].map((name) => service(name).environment);
    expect(new Set([edge!.REDIS_URL, api!.REDIS_URL, worker!.REDIS_URL]).size).toBe(1);
    expect(
      new Set([edge!.HOLDFAST_KEY_PREFIX, api!.HOLDFAST_KEY_PREFIX, worker!.HOLDFAST_KEY_PREFIX]).size,
    ).toBe(1);
    expect(api!.TOKEN_HS256_SECRETS).toBe(edge!.TOKEN_HS256_SECRETS);
    expect(api!.TOKEN_AUDIENCE).toBe(edge!.TOKEN_AUDIENCE);
    expect(edge!.REDIS_URL).toBe(`redis://:${secrets.REDIS_PASSWORD}@redis:6379`);
  });

  it('refuses to start without its secrets, naming each', async () => {
    expect(Object.keys(secrets).sort()).toEqual(['API_KEYS', 'REDIS_PASSWORD', 'TOKEN_HS256_SECRETS']);
    for (const missing of Object.keys(secrets)) {
      const vars = { ...secrets, [missing]: '' };
      expect(() => loadShippedCompose(vars), missing).toThrow(MissingVariableError);
      expect(() => loadShippedCompose(vars), missing).toThrow(missing);
    }
    expect(interpolate('a$${b}${C:-d}${E-f}${G:+h}', { E: '', G: 'x' })).toBe('a${b}dh');
  });

  it('runs every Holdfast service from the one image, by command', () => {
    const images = new Set(holdfastServices.map(({ name }) => service(name).image));
    expect(images.size).toBe(1);
    for (const { name } of holdfastServices) {
      expect(service(name).command).toEqual(['node', `services/${name}/dist/main.js`]);
    }
  });

  it('has the production shape: 3 edges, 2 workers, 1 API, HAProxy publishing TLS ports', () => {
    expect([service('edge').replicas, service('worker').replicas, service('api').replicas]).toEqual([
      3, 2, 1,
    ]);
    const ports = service('haproxy').raw.ports as string[];
    expect(ports).toEqual(expect.arrayContaining(['443:8443', '9443:9443']));
    // Only HAProxy is reachable from outside; the services and Redis publish nothing.
    for (const name of ['redis', 'edge', 'worker', 'api']) expect(service(name).raw.ports).toBeUndefined();
  });

  it('checks /healthz on PORT wherever the image health check applies', () => {
    for (const { name } of holdfastServices) {
      const svc = service(name);
      if (!svc.healthcheckDisabled) expect(svc.environment.PORT, name).toMatch(/^\d+$/);
    }
    expect(service('worker').healthcheckDisabled).toBe(true);
  });
});

describe('docker-compose.yml: Prometheus and Grafana, provisioned', () => {
  interface ScrapeConfig {
    job_name: string;
    dns_sd_configs: Array<{ names: string[]; port: number }>;
  }
  const scrape = yamlFile<{ rule_files: string[]; scrape_configs: ScrapeConfig[] }>(PROMETHEUS_YML);

  it('scrapes every edge, API and worker replica on the port compose gives it', () => {
    const portOf = { edge: 'PORT', api: 'PORT', worker: 'METRICS_PORT' } as const;
    for (const [name, variable] of Object.entries(portOf)) {
      const job = scrape.scrape_configs.find((c) => c.dns_sd_configs[0]?.names.includes(name));
      expect(job, `a scrape job for ${name}`).toBeDefined();
      expect(String(job!.dns_sd_configs[0]!.port), name).toBe(service(name).environment[variable]);
    }
  });

  it('mounts the shipped config, alerts, data source and dashboard read-only, and publishes on this host only', () => {
    const prometheus = service('prometheus');
    const grafana = service('grafana');
    const mounted = (svc: ComposeService, source: string, target: string): void => {
      expect(svc.volumes).toContainEqual(expect.objectContaining({ source, target, readOnly: true }));
    };
    mounted(prometheus, PROMETHEUS_YML, '/etc/prometheus/prometheus.yml');
    mounted(prometheus, ALERTS_YML, '/etc/prometheus/alerts.yml');
    expect(scrape.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    mounted(grafana, join(GRAFANA_DIR, 'provisioning'), '/etc/grafana/provisioning');
    mounted(grafana, join(GRAFANA_DIR, 'dashboards'), '/var/lib/grafana/dashboards');
    expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      `/var/lib/grafana/dashboards/${DASHBOARD_JSON.split('/').at(-1)}`,
    );
    for (const svc of [prometheus, grafana]) {
      for (const mapping of svc.raw.ports as string[]) expect(mapping, svc.name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('points every dashboard panel at the provisioned Prometheus data source', () => {
    const source = yamlFile<{ datasources: Array<{ uid: string; url: string }> }>(DATASOURCE_YML)
      .datasources[0];
    expect(source?.url).toBe('http://prometheus:9090');
    const panels = dashboard().panels;
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe(source?.uid);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
  });
});

describe('docker-compose.yml: graceful stops', () => {
  it('gives each edge longer than DRAIN_TIMEOUT_MS before SIGKILL', () => {
    const edge = service('edge');
    const { drainTimeoutMs, drainSpreadMs } = loadEdgeConfig(edge.environment);
    expect(edge.stopGracePeriodMs).toBeGreaterThan(drainTimeoutMs);
    expect(drainSpreadMs).toBeLessThan(drainTimeoutMs);
  });

  it('gives the API longer than SHUTDOWN_TIMEOUT_MS and workers longer than their hard exit', () => {
    const api = service('api');
    expect(api.stopGracePeriodMs).toBeGreaterThan(loadApiConfig(api.environment).shutdownTimeoutMs);
    const worker = service('worker');
    expect(worker.stopGracePeriodMs).toBeGreaterThan(
      loadWorkerConfig(worker.environment).shutdownTimeoutMs + WORKER_HARD_EXIT_MARGIN_MS,
    );
  });

  it('lets HAProxy end its tunnels (hard-stop-after) before Docker kills it', async () => {
    const cfg = await readFile(HAPROXY_CFG, 'utf8');
    expect(haproxyDuration(haproxySetting(cfg, 'hard-stop-after'))).toBeLessThan(
      service('haproxy').stopGracePeriodMs,
    );
  });

  it('parses Compose durations', () => {
    expect(parseComposeDuration('1m30s')).toBe(90_000);
    expect(parseComposeDuration('500ms')).toBe(500);
    expect(() => parseComposeDuration('30')).toThrow(/not a duration/);
  });
});

describe('Redis settings', () => {
  it('is durable and never evicts: AOF fsynced on every write, noeviction, a volume, a password', async () => {
    const conf = await readFile(REDIS_CONF, 'utf8');
    const settings = new Map(
      conf
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
        .map((line) => {
          const [key = '', ...value] = line.trim().split(/\s+/);
          return [key, value.join(' ')];
        }),
    );
    expect(settings.get('appendonly')).toBe('yes');
    expect(settings.get('appendfsync')).toBe('always');
    expect(settings.get('maxmemory-policy')).toBe('noeviction');

    const redis = service('redis');
    expect(redis.command?.slice(0, 2)).toEqual(['redis-server', '/usr/local/etc/redis/redis.conf']);
    expect(redis.volumes).toContainEqual(
      expect.objectContaining({
        source: REDIS_CONF,
        target: '/usr/local/etc/redis/redis.conf',
        readOnly: true,
      }),
    );
    expect(redis.volumes).toContainEqual(expect.objectContaining({ bind: false, target: '/data' }));
    const command = redis.command ?? [];
    expect(command[command.indexOf('--requirepass') + 1]).toBe(secrets.REDIS_PASSWORD);
    expect(redis.raw.healthcheck).toBeDefined();
  });
});

describe('deploy/haproxy.cfg', () => {
  let cert: Awaited<ReturnType<typeof makeDevCert>>;
  beforeAll(async () => {
    cert = await makeDevCert();
  });
  afterAll(async () => {
    if (cert) await rm(cert.dir, { recursive: true, force: true });
  });

  const check = async (file: string, env: Record<string, string>): Promise<void> => {
    const result = await runCommand('haproxy', ['-c', '-f', file], { PATH: process.env.PATH, ...env });
    expect(result.output).toContain('Configuration file is valid');
    expect(result.code, result.output).toBe(0);
  };

  it('passes haproxy -c as compose runs it (TLS, servers from Docker DNS)', async () => {
    await check(HAPROXY_CFG, { ...service('haproxy').environment, LB_TLS_CERT: cert.pem });
  });

  it('passes haproxy -c as npm run cluster runs it, with and without TLS', async () => {
    const local = localHaproxyConfig(await readFile(HAPROXY_CFG, 'utf8'), {
      edge: [8101, 8102, 8103].map((port) => ({ host: '127.0.0.1', port })),
      api: [{ host: '127.0.0.1', port: 8104 }],
    });
    expect(local).not.toMatch(/^\s*server-template/m);
    expect(local).toMatch(/^\s+server edge3 127\.0\.0\.1:8103$/m);
    const file = join(cert.dir, 'local.cfg');
    await writeFile(file, local);
    await check(file, { LB_PLAIN_HTTP: '1', LB_CHECK_INTER: '500ms' });
    await check(file, { LB_TLS_CERT: cert.pem, LB_CHECK_INTER: '500ms' });
  });

  it('keeps WebSockets open longer than the edges heartbeat needs, and checks readiness', async () => {
    const cfg = await readFile(HAPROXY_CFG, 'utf8');
    const { pingIntervalMs, pingTimeoutMs } = loadEdgeConfig(service('edge').environment);
    expect(haproxyDuration(haproxySetting(cfg, 'timeout tunnel'))).toBeGreaterThan(
      pingIntervalMs + pingTimeoutMs,
    );
    expect(cfg).toMatch(/http-check send meth GET uri \/readyz/);
    expect(cfg).toMatch(/^\s*option redispatch/m);
    expect(cfg).toMatch(/http-request set-header X-Forwarded-For %\[src\]/);
    // Every port compose maps into the container is one the config binds by default.
    for (const mapping of service('haproxy').raw.ports as string[]) {
      const containerPort = mapping.split(':').at(-1);
      expect(cfg, mapping).toContain(`-:${containerPort}}"`);
    }
  });
});

describe('Dockerfile', () => {
  it('builds on the Node major the tests run on and runs as a non-root user with a health check', async () => {
    const text = await readFile(DOCKERFILE, 'utf8');
    const image = /^ARG NODE_IMAGE=node:(\d+)-slim$/m.exec(text);
    expect(image?.[1]).toBe(process.versions.node.split('.')[0]);
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*CMD \["node", "deploy\/healthcheck\.mjs"\]$/m);
    expect(runtime).not.toMatch(/^COPY (shared|services) /m); // no sources in the runtime image
    const ignore = await readFile(join(REPO_ROOT, '.dockerignore'), 'utf8');
    for (const entry of ['**/node_modules', '**/dist', '.env', 'deploy/certs', '.git'])
      expect(ignore).toContain(entry);
  });
});
