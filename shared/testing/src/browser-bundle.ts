import { builtinModules } from 'node:module';
import { build, type Metafile } from 'esbuild';

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);

export interface BrowserBundle {
  readonly code: string;
  readonly metafile: Metafile;
  /** Input files and packages that are Node built-ins (must be none for a browser). */
  readonly nodeBuiltins: string[];
}

/**
 * Bundles `entry` as a browser app would ship it: one ESM file, minified, every dependency
 * inlined. Used for the client SDK's bundle tests and for the demo page that `npm start` serves.
 */
export async function buildBrowserBundle(entry: string): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [entry],
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
