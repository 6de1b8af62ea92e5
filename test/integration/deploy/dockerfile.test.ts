/**
 * The Dockerfile, built without Docker: its stages replayed in temp folders (context filtered by
 * .dockerignore, `npm ci`, `npm run build`, `npm ci --omit=dev`, the COPYs between stages), then
 * every compose command started from the runtime stage alone, as the container would run it.
 *
 * SLOW (about 20-30 s, most of this file's time): two real `npm ci` runs and a full `tsc -b`.
 * npm is pointed at its local cache first (prefer-offline), which changes where packages come
 * from, not what is installed. It is the only test that proves the image's dist/ and production
 * dependencies are enough to run each service.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  hostPathFor,
  freePort,
  startLocalRedis,
  type LocalRedis,
  ServiceProcess,
} from '@holdfast/testing';
import { DOCKERFILE, devSecrets, loadShippedCompose, runCommand } from './deploy-files.js';
import { buildContext, dockerignoreMatcher, replayDockerfile, type Stage } from './dockerfile-replay.js';

const BUILD_TIMEOUT_MS = 240_000;

let workDir: string;
let runtime: Stage;
let redis: LocalRedis;
const timings: string[] = [];
const secrets = devSecrets();
const compose = loadShippedCompose(secrets);
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'holdfast-image-'));
  const context = join(workDir, 'context');
  await buildContext(REPO_ROOT, context);
  const stages = await replayDockerfile({
    dockerfile: DOCKERFILE,
    context,
    workDir: join(workDir, 'stages'),
    runEnv: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? workDir,
      npm_config_prefer_offline: 'true',
      npm_config_update_notifier: 'false',
    },
    onStep: (stage, step, ms) => timings.push(`${stage}: ${step.slice(0, 50)}… ${ms} ms`),
  });
  runtime = [...stages.values()].at(-1)!;
  // Redis as compose runs it (its config file and password), so the services' REDIS_URL works as is.
  const redisService = compose.services.redis!;
  redis = await startLocalRedis({
    command: redisService.command!.map((arg) => hostPathFor(redisService, arg) ?? arg),
    dir: join(workDir, 'redis'),
  });
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop(10_000)));
  await redis?.process.stop(10_000);
  if (workDir) await rm(workDir, { recursive: true, force: true });
  console.log(`Dockerfile replay:\n  ${timings.join('\n  ')}`);
});

/** Starts a compose service's command in the runtime stage, with the compose environment. */
async function runService(name: string): Promise<ServiceProcess> {
  const service = compose.services[name]!;
  const port = service.environment.PORT === undefined ? undefined : await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...runtime.env,
    ...service.environment,
    REDIS_URL: service.environment.REDIS_URL!.replace('@redis:6379', `@127.0.0.1:${redis.port}`),
    ...(port === undefined ? {} : { PORT: String(port), HOST: '127.0.0.1' }),
  };
  const [command, ...args] = service.command!;
  const started = new ServiceProcess({
    name,
    command: command === 'node' ? process.execPath : command!,
    args,
    env,
    cwd: runtime.workdir,
    ...(port === undefined ? {} : { port }),
    ready:
      port === undefined
        ? (p) => /"msg":"[^"]*ready"/.test(p.output)
        : async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
  });
  processes.push(started);
  await started.start();
  return started;
}

describe('Dockerfile (replayed without Docker)', () => {
  it('leaves only package.json files, dist/ and production dependencies in the runtime stage', async () => {
    expect(runtime.user).toBe('node');
    const app = runtime.workdir;
    for (const dir of ['shared', 'services']) {
      for (const pkg of await readdir(join(app, dir))) {
        const entries = (await readdir(join(app, dir, pkg))).sort();
        expect(entries, `${dir}/${pkg}`).toEqual(expect.arrayContaining(['package.json']));
        // node_modules: a workspace's own production dependencies (a version other than the
        // hoisted one); bin/: the launcher a package declares in `bin` (the ops CLI), no sources.
        const allowed = ['package.json', 'dist', 'node_modules', 'bin'];
        expect(
          entries.filter((e) => !allowed.includes(e)),
          `${dir}/${pkg}`,
        ).toEqual([]);
        if (entries.includes('bin')) {
          const launchers = await readdir(join(app, dir, pkg, 'bin'));
          expect(
            launchers.every((file) => file.endsWith('.js')),
            `${dir}/${pkg}/bin`,
          ).toBe(true);
        }
      }
    }
    expect(existsSync(join(app, 'services/edge/dist/main.js'))).toBe(true);
    expect(existsSync(join(app, 'services/edge/node_modules/p-limit/package.json'))).toBe(true);
    expect(existsSync(join(app, 'shared/session-log/dist/lua'))).toBe(true);
    for (const devOnly of ['typescript', 'vitest', 'eslint', 'tsx', 'yaml', 'esbuild']) {
      expect(existsSync(join(app, 'node_modules', devOnly)), devOnly).toBe(false);
    }
    // The development tooling package never reaches the image (.dockerignore), nor a link to it.
    expect(existsSync(join(app, 'shared/testing')), 'shared/testing').toBe(false);
    expect(existsSync(join(app, 'node_modules/@holdfast/testing')), '@holdfast/testing').toBe(false);
    for (const devOnly of ['esbuild'])
      expect(existsSync(join(app, 'node_modules', devOnly)), devOnly).toBe(false);
  });

  it.each(['edge', 'api'])(
    'starts the %s from dist/ with the compose environment and answers /healthz',
    async (name) => {
      const service = await runService(name);
      // The image's HEALTHCHECK command, run as Docker would, in the container's environment.
      const [command, ...args] = runtime.healthcheck!;
      const check = await runCommand(command === 'node' ? process.execPath : command!, args, {
        PATH: process.env.PATH,
        PORT: String(service.port),
      });
      expect(check.code, check.output).toBe(0);
      await service.stop(10_000);
      expect(await service.waitForExit()).toEqual({ code: 0, signal: null });
    },
  );

  it('starts the worker from dist/ with the compose environment', async () => {
    const worker = await runService('worker');
    expect(worker.output).toContain('"handler":"example-agent"');
    await worker.stop(10_000);
    expect(await worker.waitForExit()).toEqual({ code: 0, signal: null });
  });

  it('reads .dockerignore like Docker does', () => {
    const included = dockerignoreMatcher(['**/node_modules', 'data', '!data/keep', 'deploy/certs', '*.log']);
    expect(included('shared/auth/node_modules/x')).toBe(false);
    expect(included('node_modules')).toBe(false);
    expect(included('data/redis')).toBe(false);
    expect(included('deploy/certs/holdfast.pem')).toBe(false);
    expect(included('deploy/haproxy.cfg')).toBe(true);
    expect(included('debug.log')).toBe(false);
    expect(included('services/edge/src/main.ts')).toBe(true);
  });
});
