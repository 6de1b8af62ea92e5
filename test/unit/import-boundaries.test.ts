/**
 * The layering rules, checked on every source file in the repository (issue 15, point 7):
 *
 * - nothing outside test/ imports from test/ (tooling the scripts and benchmarks share lives in
 *   @holdfast/testing, shared/testing);
 * - test/ never imports from scripts/ (what the tests need of the cluster runner is in
 *   @holdfast/testing too; scripts/ are entry points, not libraries);
 * - a service never imports another service (services/a -> services/b, or @holdfast/<service>);
 * - no product package (shared/* other than testing, services/*) imports @holdfast/testing, which
 *   is never built or shipped;
 * - tests import @holdfast/testing directly: nothing in test/ re-exports it (one path per helper).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIRS = ['shared', 'services', 'scripts', 'bench', 'demo', 'test', 'deploy'];
const SOURCE_FILE = /\.(ts|mts|js|mjs)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage']);
const TESTING_PACKAGE = '@holdfast/testing';

/** `from '…'`, `import '…'`, `import('…')` and `export … from '…'`: every way a module names another. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

interface Import {
  /** The importing file, relative to the repository root with `/` separators. */
  readonly file: string;
  readonly specifier: string;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

function importsOf(file: string, text: string): Import[] {
  return [...text.matchAll(SPECIFIER)].map((match) => ({ file, specifier: match[1]! }));
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

/** The repository path a relative specifier points at, or undefined for a package specifier. */
function targetPath(imp: Import): string | undefined {
  if (!imp.specifier.startsWith('.')) return undefined;
  return toPosix(relative(REPO_ROOT, resolve(REPO_ROOT, dirname(imp.file), imp.specifier)));
}

function under(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

/** `services/edge/src/x.ts` -> `services/edge`; `shared/protocol/…` -> `shared/protocol`. */
function workspaceOf(path: string): string | undefined {
  const [top, name] = path.split('/');
  return (top === 'shared' || top === 'services') && name !== undefined ? `${top}/${name}` : undefined;
}

/** Each workspace's package name and folder, read from its package.json. */
function workspacePackages(): Map<string, string> {
  const byName = new Map<string, string>();
  for (const top of ['shared', 'services']) {
    for (const name of readdirSync(join(REPO_ROOT, top))) {
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, top, name, 'package.json'), 'utf8')) as {
        name: string;
      };
      byName.set(manifest.name, `${top}/${name}`);
    }
  }
  return byName;
}

/** The workspace folder a specifier lands in, whether written as a package name or a relative path. */
function targetWorkspace(imp: Import, packages: Map<string, string>): string | undefined {
  const path = targetPath(imp);
  if (path !== undefined) return workspaceOf(path);
  const name = /^(@[^/]+\/[^/]+|[^@/][^/]*)/.exec(imp.specifier)?.[1];
  return name === undefined ? undefined : packages.get(name);
}

/** Every rule the import breaks, as a sentence naming the file and the specifier. */
function violations(imp: Import, packages: Map<string, string>): string[] {
  const found: string[] = [];
  const where = `${imp.file} imports '${imp.specifier}'`;
  const path = targetPath(imp);
  const from = workspaceOf(imp.file);
  const to = targetWorkspace(imp, packages);
  if (path !== undefined && under(path, 'test') && !under(imp.file, 'test')) {
    found.push(`${where}: only test/ may import from test/ (shared tooling belongs in ${TESTING_PACKAGE})`);
  }
  if (path !== undefined && under(path, 'scripts') && under(imp.file, 'test')) {
    found.push(`${where}: test/ must not import scripts/ (move what both need to ${TESTING_PACKAGE})`);
  }
  if (
    from !== undefined &&
    to !== undefined &&
    from !== to &&
    under(from, 'services') &&
    under(to, 'services')
  ) {
    found.push(`${where}: a service must not import another service (share it through a shared/ package)`);
  }
  if (from !== undefined && from !== 'shared/testing' && to === 'shared/testing') {
    found.push(`${where}: product packages must not depend on ${TESTING_PACKAGE} (it is never shipped)`);
  }
  return found;
}

function repositoryImports(): Import[] {
  const imports: Import[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const path of sourceFiles(join(REPO_ROOT, dir))) {
      imports.push(...importsOf(toPosix(relative(REPO_ROOT, path)), readFileSync(path, 'utf8')));
    }
  }
  return imports;
}

describe('import boundaries', () => {
  const packages = workspacePackages();

  it('finds every rule broken in known-bad imports (the checker itself)', () => {
    const bad: Import[] = [
      { file: 'bench/lib/redis.ts', specifier: '../../test/helpers/fault-proxy.js' },
      { file: 'scripts/start.ts', specifier: '../test/helpers/raw-client.js' },
      { file: 'test/chaos/topology.ts', specifier: '../../scripts/cluster.js' },
      { file: 'services/api/src/main.ts', specifier: '../../edge/src/metrics.js' },
      { file: 'services/worker/src/main.ts', specifier: '@holdfast/edge' },
      { file: 'shared/protocol/src/index.ts', specifier: '@holdfast/testing' },
      { file: 'services/edge/src/main.ts', specifier: '../../../shared/testing/src/index.js' },
    ];
    for (const imp of bad)
      expect(violations(imp, packages), `${imp.file} -> ${imp.specifier}`).toHaveLength(1);
    const good: Import[] = [
      { file: 'test/unit/auth.test.ts', specifier: '../helpers/raw-client.js' },
      { file: 'test/unit/auth.test.ts', specifier: '@holdfast/testing' },
      { file: 'bench/lib/redis.ts', specifier: '@holdfast/testing' },
      { file: 'scripts/start.ts', specifier: '../demo/server/demo-server.js' },
      { file: 'services/edge/src/main.ts', specifier: '@holdfast/session-log' },
      { file: 'services/edge/src/main.ts', specifier: './edge-server.js' },
      { file: 'shared/testing/src/index.ts', specifier: './tokens.js' },
    ];
    for (const imp of good) expect(violations(imp, packages), `${imp.file} -> ${imp.specifier}`).toEqual([]);
  });

  it('holds for every source file in the repository', () => {
    const imports = repositoryImports();
    // The scan must actually see the tree: hundreds of files, each service and the testing package.
    const files = new Set(imports.map((imp) => imp.file));
    expect(files.size).toBeGreaterThan(300);
    for (const folder of [
      'services/edge',
      'services/worker',
      'services/api',
      'shared/testing',
      'test',
      'bench',
    ]) {
      expect(
        [...files].some((file) => under(file, folder)),
        folder,
      ).toBe(true);
    }
    expect(imports.flatMap((imp) => violations(imp, packages))).toEqual([]);
  });

  it('has no re-export of @holdfast/testing in test/ (tests import it directly)', () => {
    const reexport = /^\s*export\s[^;]*?\bfrom\s*['"]@holdfast\/testing['"]/m;
    expect(reexport.test("export { waitFor } from '@holdfast/testing';")).toBe(true);
    const offenders = [...sourceFiles(join(REPO_ROOT, 'test'))]
      .filter((path) => reexport.test(readFileSync(path, 'utf8')))
      .map((path) => toPosix(relative(REPO_ROOT, path)));
    expect(offenders).toEqual([]);
  });
});
