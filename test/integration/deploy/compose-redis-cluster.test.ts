/**
 * Static checks of docker-compose.redis-cluster.yml merged over docker-compose.yml, as
 * `docker compose -f docker-compose.yml -f docker-compose.redis-cluster.yml` merges them (no
 * Docker engine here; redis-cluster-topology.test.ts runs the same topology as processes):
 * six nodes with health checks, volumes and announced addresses; the init job that forms the
 * cluster once; every Holdfast service pointed at the cluster and started after it formed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '@holdfast/api';
import { loadEdgeConfig } from '@holdfast/edge';
import { parseRedisTarget } from '@holdfast/protocol';
import { loadWorkerConfig } from '@holdfast/worker';
import {
  REDIS_CLUSTER_COMPOSE_FILE,
  REPO_ROOT,
  composeRequiredVariables,
  composeRoles,
  interpolate,
  loadComposeFile,
  MissingVariableError,
  type ComposeFile,
  type ComposeService,
} from '@holdfast/testing';
import { COMPOSE_FILE, REDIS_CONF, devSecrets, loadShippedCompose, runCommand } from './deploy-files.js';

const CLUSTER_CONF = join(REPO_ROOT, 'deploy', 'redis-cluster.conf');
const INIT_SCRIPT = join(REPO_ROOT, 'deploy', 'redis-cluster-init.sh');
const NODE_NAMES = [1, 2, 3, 4, 5, 6].map((i) => `redis-node-${i}`);
const HOLDFAST_SERVICES = ['edge', 'worker', 'api'];

const secrets = devSecrets();
const load = (vars: Record<string, string> = secrets): ComposeFile =>
  loadComposeFile([COMPOSE_FILE, REDIS_CLUSTER_COMPOSE_FILE], vars);
const compose = load();
const service = (name: string, file = compose): ComposeService => {
  const found = file.services[name];
  if (!found) throw new Error(`no service '${name}' after the merge`);
  return found;
};
const flag = (svc: ComposeService, name: string): string | undefined => {
  const command = svc.command ?? [];
  const i = command.lastIndexOf(name);
  return i === -1 ? undefined : command[i + 1];
};
const healthcheckTest = (svc: ComposeService): string =>
  JSON.stringify((svc.raw.healthcheck as { test?: unknown } | undefined)?.test ?? '');

describe('docker-compose.redis-cluster.yml: the nodes', () => {
  it('replaces the single Redis with six nodes and one job forming the cluster', () => {
    expect(service('redis').profiles.length).toBeGreaterThan(0); // not started by `up`
    const roles = composeRoles(compose);
    expect(roles.redis.kind).toBe('cluster');
    if (roles.redis.kind !== 'cluster') return;
    expect(roles.redis.nodes.map((node) => node.name)).toEqual(NODE_NAMES);
    expect(roles.redis.init.name).toBe('redis-cluster-init');
  });

  it.each(NODE_NAMES)('%s: redis.conf then redis-cluster.conf, the password, a health check', (name) => {
    const node = service(name);
    expect(node.image).toBe(service('redis').image);
    expect(node.command?.slice(0, 4)).toEqual([
      'redis-server',
      '/usr/local/etc/redis/redis.conf',
      '--include',
      '/usr/local/etc/redis/redis-cluster.conf',
    ]);
    for (const [target, source] of [
      ['/usr/local/etc/redis/redis.conf', REDIS_CONF],
      ['/usr/local/etc/redis/redis-cluster.conf', CLUSTER_CONF],
    ]) {
      expect(node.volumes).toContainEqual(expect.objectContaining({ source, target, readOnly: true }));
    }
    // Replicas authenticate to their master with the same password (masterauth).
    expect(flag(node, '--requirepass')).toBe(secrets.REDIS_PASSWORD);
    expect(flag(node, '--masterauth')).toBe(secrets.REDIS_PASSWORD);
    expect(node.environment.REDISCLI_AUTH).toBe(secrets.REDIS_PASSWORD);
    expect(healthcheckTest(node)).toContain('redis-cli ping | grep -q PONG');
    expect(node.stopGracePeriodMs).toBeGreaterThanOrEqual(30_000);
  });

  it('gives each node its own named volume at /data, declared at the top level', async () => {
    const volumes = NODE_NAMES.map((name) => {
      const data = service(name).volumes.find((mount) => mount.target === '/data');
      expect(data?.bind, name).toBe(false);
      return data?.source;
    });
    expect(new Set(volumes).size).toBe(NODE_NAMES.length);
    const text = await readFile(REDIS_CLUSTER_COMPOSE_FILE, 'utf8');
    const declared = /^volumes:\n((?: {2}.+\n?)+)/m.exec(text)?.[1] ?? '';
    for (const volume of volumes) expect(declared).toContain(`  ${volume}:`);
  });

  it('announces a fixed address per node, inside the cluster network, that stays put on recreation', async () => {
    const text = await readFile(REDIS_CLUSTER_COMPOSE_FILE, 'utf8');
    const subnet = /^networks:\n {2}redis-cluster:\n(?: {4}.*\n)*? {8}- subnet: (\S+)$/m.exec(text)?.[1];
    expect(interpolate(subnet ?? '', secrets)).toBe('172.29.0.0/24');
    const addresses = NODE_NAMES.map((name) => {
      const node = service(name);
      const networks = node.raw.networks as Record<string, { ipv4_address?: string }>;
      const address = networks['redis-cluster']?.ipv4_address;
      expect(flag(node, '--cluster-announce-ip'), name).toBe(address);
      expect(address, name).toMatch(/^172\.29\.0\.\d+$/);
      return address;
    });
    expect(new Set(addresses).size).toBe(NODE_NAMES.length);
  });

  it('moves every address with REDIS_CLUSTER_NET, consistently', () => {
    const moved = load({ ...secrets, REDIS_CLUSTER_NET: '10.77.3' });
    for (const name of NODE_NAMES)
      expect(flag(service(name, moved), '--cluster-announce-ip')).toMatch(/^10\.77\.3\./);
    const nodes = service('redis-cluster-init', moved).environment.CLUSTER_NODES!.split(',');
    expect(nodes.every((node) => node.startsWith('10.77.3.'))).toBe(true);
  });

  it('enables cluster mode with its state in the volume, on top of redis.conf', async () => {
    const conf = await readFile(CLUSTER_CONF, 'utf8');
    const settings = new Map(
      conf
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
        .map((line) => line.trim().split(/\s+/) as [string, string]),
    );
    expect(settings.get('cluster-enabled')).toBe('yes');
    expect(settings.get('cluster-config-file')).toBe('nodes.conf'); // relative: in /data
    expect(Number(settings.get('cluster-node-timeout'))).toBeGreaterThan(0);
    // The AOF and noeviction stay redis.conf's; only the fsync policy is the cluster's own
    // (a master with a replica is never durable: fsyncing every write would buy no epoch).
    for (const key of ['appendonly', 'maxmemory-policy', 'save']) expect(settings.has(key), key).toBe(false);
    expect(settings.get('appendfsync')).toBe('everysec');
  });
});

describe('docker-compose.redis-cluster.yml: the init job', () => {
  const init = service('redis-cluster-init');

  it('runs the shipped script with every node’s announced address and 1 replica per master', () => {
    expect(init.command).toEqual(['sh', '/usr/local/bin/redis-cluster-init.sh']);
    expect(init.volumes).toContainEqual(
      expect.objectContaining({
        source: INIT_SCRIPT,
        target: '/usr/local/bin/redis-cluster-init.sh',
        readOnly: true,
      }),
    );
    const announced = NODE_NAMES.map((name) => `${flag(service(name), '--cluster-announce-ip')}:6379`);
    expect(init.environment.CLUSTER_NODES?.split(',')).toEqual(announced);
    // 6 nodes, 1 replica each: 3 masters + 3 replicas.
    expect(init.environment.CLUSTER_REPLICAS).toBe('1');
    expect(init.environment.REDISCLI_AUTH).toBe(secrets.REDIS_PASSWORD);
    expect(init.raw.networks).toEqual(['redis-cluster']);
  });

  it('starts once every node is healthy, runs once, and is valid sh that creates the cluster', async () => {
    const dependsOn = init.raw.depends_on as Record<string, { condition: string }>;
    expect(Object.keys(dependsOn).sort()).toEqual(NODE_NAMES);
    for (const name of NODE_NAMES) expect(dependsOn[name]?.condition).toBe('service_healthy');
    expect(init.raw.restart).toBe('no');
    const script = await readFile(INIT_SCRIPT, 'utf8');
    expect(script).toMatch(
      /redis-cli --cluster create \$nodes --cluster-replicas "\$replicas" --cluster-yes/,
    );
    const syntax = await runCommand('sh', ['-n', INIT_SCRIPT]);
    expect(syntax.code, syntax.output).toBe(0);
  });
});

describe('docker-compose.redis-cluster.yml: the Holdfast services', () => {
  it.each(HOLDFAST_SERVICES)('%s: REDIS_URL names the cluster, its config loads', (name) => {
    const env = service(name).environment;
    const target = parseRedisTarget(env.REDIS_URL!);
    expect(target).toMatchObject({ kind: 'cluster', password: secrets.REDIS_PASSWORD, tls: false });
    if (target.kind !== 'cluster') return;
    expect(target.nodes.map((node) => `${node.host}:${node.port}`)).toEqual(
      NODE_NAMES.map((n) => `${n}:6379`),
    );
    const loader = { edge: loadEdgeConfig, worker: loadWorkerConfig, api: loadApiConfig }[name]!;
    expect((loader(env) as { redisUrl: string }).redisUrl).toBe(env.REDIS_URL);
  });

  it.each(HOLDFAST_SERVICES)(
    '%s: the rest of its environment is docker-compose.yml’s (edges and workers: inbound queues spread)',
    (name) => {
      const { REDIS_URL: _cluster, HOLDFAST_INBOUND_QUEUES: queues, ...merged } = service(name).environment;
      const { REDIS_URL: _single, ...base } = loadShippedCompose(secrets).services[name]!.environment;
      expect(merged).toEqual(base);
      // Edges submit to the queues workers take from: the same count on both, over one.
      expect(queues).toBe(name === 'api' ? undefined : '6');
    },
  );

  it.each(HOLDFAST_SERVICES)('%s: starts after the cluster formed, and reaches its network', (name) => {
    const svc = service(name);
    expect(svc.raw.depends_on).toEqual({
      'redis-cluster-init': { condition: 'service_completed_successfully' },
    });
    expect(svc.raw.networks).toEqual(['default', 'redis-cluster']);
  });

  it('depends on no service that `up` leaves out', () => {
    const running = new Set(
      Object.values(compose.services)
        .filter((svc) => svc.profiles.length === 0)
        .map((svc) => svc.name),
    );
    for (const svc of Object.values(compose.services)) {
      const deps = svc.raw.depends_on;
      const names = Array.isArray(deps) ? deps.map(String) : Object.keys((deps ?? {}) as object);
      for (const dep of names) expect(running.has(dep), `${svc.name} → ${dep}`).toBe(true);
    }
  });
});

describe('docker-compose.redis-cluster.yml: variables', () => {
  it('needs no secret beyond docker-compose.yml’s, and refuses to start without REDIS_PASSWORD', () => {
    const base = composeRequiredVariables(COMPOSE_FILE);
    expect(composeRequiredVariables(REDIS_CLUSTER_COMPOSE_FILE)).toEqual(['REDIS_PASSWORD']);
    expect(composeRequiredVariables([COMPOSE_FILE, REDIS_CLUSTER_COMPOSE_FILE]).sort()).toEqual(base.sort());
    expect(() => load({ ...secrets, REDIS_PASSWORD: '' })).toThrow(MissingVariableError);
  });

  it('has a default for every optional variable it reads', async () => {
    const text = await readFile(REDIS_CLUSTER_COMPOSE_FILE, 'utf8');
    const optional = [...text.matchAll(/\$\{([A-Z_]+)(:?[-?])?/g)]
      .filter(([, , op]) => op === undefined)
      .map(([, name]) => name);
    expect(optional, 'variables used without a default or a required mark').toEqual([]);
  });
});

describe('merging compose files (docker compose -f a -f b)', () => {
  it('replaces commands, merges volumes by target and environments by name, applies !override and !reset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-merge-'));
    try {
      const base = join(dir, 'a.yml');
      const override = join(dir, 'b.yml');
      await writeFile(
        base,
        [
          'services:',
          '  app:',
          '    command: [run, a]',
          '    environment: [A=1, B=2]',
          '    volumes: [data:/data, ./conf:/conf:ro]',
          '    depends_on: [db]',
          '    dns: [1.1.1.1]',
          '    ports: ["80:80"]',
        ].join('\n'),
      );
      await writeFile(
        override,
        [
          'services:',
          '  app:',
          '    command: [run, b]',
          '    environment: { B: "3", C: "4" }',
          '    volumes: [other:/data]',
          '    depends_on: !override { init: { condition: service_completed_successfully } }',
          '    dns: [8.8.8.8]',
          '    ports: !reset []',
        ].join('\n'),
      );
      const app = loadComposeFile([base, override], {}).services.app!;
      expect(app.command).toEqual(['run', 'b']);
      expect(app.environment).toEqual({ A: '1', B: '3', C: '4' });
      expect(app.volumes.map((v) => `${v.source.split('/').at(-1)}:${v.target}`)).toEqual([
        'conf:/conf',
        'other:/data',
      ]);
      expect(app.raw.depends_on).toEqual({ init: { condition: 'service_completed_successfully' } });
      expect(app.raw.dns).toEqual(['1.1.1.1', '8.8.8.8']);
      expect(app.raw.ports).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
