// Makes sure everything Holdfast needs outside its own code is present: node_modules and the
// redis-server / haproxy / openssl binaries, and for the tests Debian's chromium (the demo page's
// browser test drives /usr/bin/chromium). It runs before node_modules exist, so it uses Node built-ins only.
// Silent when nothing is missing, so it can sit in front of every `npm test` at no cost.
//
// Usage: node scripts/ensure-deps.mjs [test|start|cluster]
//   start: redis-server;  cluster, none: redis-server, haproxy and openssl (the deployment tests
//   run HAProxy with a self-signed certificate);  test: those and chromium.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
const BINARIES = {
  // redis-cli builds the Redis Cluster of the cluster tests and of `npm run cluster --
  // --redis-cluster` (redis-cli --cluster create, in deploy/redis-cluster-init.sh).
  test: ['redis-server', 'redis-cli', 'haproxy', 'openssl', 'chromium'],
  cluster: ['redis-server', 'redis-cli', 'haproxy', 'openssl'],
  start: ['redis-server'],
  all: ['redis-server', 'haproxy', 'openssl'],
};
// The Debian/Ubuntu package that provides each binary, and how to get it elsewhere.
const PACKAGES = {
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  haproxy: 'haproxy',
  openssl: 'openssl',
  chromium: 'chromium',
};
const BREW = {
  'redis-server': 'redis',
  'redis-cli': 'redis',
  haproxy: 'haproxy',
  openssl: 'openssl',
  chromium: '--cask chromium',
};
// Binaries looked for at a fixed path instead of on PATH: the browser test launches exactly this one.
const FIXED_PATHS = { chromium: '/usr/bin/chromium' };

const required = Object.hasOwn(BINARIES, mode ?? 'all') ? BINARIES[mode ?? 'all'] : undefined;
if (!required) fail(`unknown mode '${mode}'; use one of: test, start, cluster`, 2);

ensureNodeModules();
ensureBinaries(required);

function ensureNodeModules() {
  const lock = join(root, 'package-lock.json');
  const installedLock = join(root, 'node_modules', '.package-lock.json');
  const hasLock = existsSync(lock);
  // npm writes node_modules/.package-lock.json on every install, so a lockfile newer than it means
  // someone changed the dependencies (git pull, branch switch) since the last install.
  const stale =
    !existsSync(join(root, 'node_modules')) ||
    (hasLock && (!existsSync(installedLock) || mtime(lock) > mtime(installedLock)));
  if (!stale) return;
  const args = hasLock ? ['ci'] : ['install'];
  log(`node_modules is missing or out of date; running npm ${args[0]}`);
  run('npm', args, { cwd: root });
}

function ensureBinaries(names) {
  const missing = names.filter((name) => !isInstalled(name));
  if (missing.length === 0) return;

  const canApt = process.getuid?.() === 0 && existsSync('/etc/debian_version');
  if (!canApt) {
    const apt = missing.map((name) => PACKAGES[name]).join(' ');
    const brew = missing.map((name) => BREW[name]).join(' ');
    const [verb, pronoun] = missing.length === 1 ? ['is', 'it'] : ['are', 'them'];
    fail(
      `${missing.join(' and ')} ${verb} required; install ${pronoun} ` +
        `(Debian/Ubuntu: sudo apt-get install ${apt}; macOS: brew install ${brew})`,
    );
  }

  const packages = missing.map((name) => PACKAGES[name]);
  log(`installing ${packages.join(' ')} with apt-get`);
  // Noninteractive: no debconf prompts in CI. The redis-server package may start a system redis on
  // 6379; the tests never use that port (each starts its own server), so it is left alone.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], { env });
  run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env });

  const stillMissing = missing.filter((name) => !isInstalled(name));
  if (stillMissing.length > 0) fail(`apt-get finished but ${stillMissing.join(', ')} is still not installed`);
}

function isInstalled(name) {
  const fixed = FIXED_PATHS[name];
  if (fixed === undefined) return onPath(name);
  try {
    accessSync(fixed, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0)
    fail(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

function mtime(path) {
  return statSync(path).mtimeMs;
}

function log(message) {
  console.log(`holdfast: ${message}`);
}

function fail(message, code = 1) {
  console.error(`holdfast: ${message}`);
  process.exit(code);
}
