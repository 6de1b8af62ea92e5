import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ENTRY = fileURLToPath(new URL('../../shared/client/src/index.ts', import.meta.url));
const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);

export interface BrowserBundle {
  readonly code: string;
  readonly metafile: Metafile;
  /** Input files and packages that are Node built-ins (must be none). */
  readonly nodeBuiltins: string[];
}

/** Bundles the client SDK as a browser app would: ESM, minified, every dependency inlined. */
export async function buildBrowserBundle(): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // Workspace packages resolve to their TypeScript sources, as in the rest of the repo.
    conditions: ['source'],
  });
  const code = result.outputFiles[0]?.text ?? '';
  const imported = Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.map((i) => i.path),
  );
  const nodeBuiltins = [...Object.keys(result.metafile.inputs), ...imported].filter(
    (path) => NODE_BUILTINS.has(path) || path.startsWith('node:'),
  );
  return { code, metafile: result.metafile, nodeBuiltins };
}
