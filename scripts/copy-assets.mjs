// Copies non-TypeScript assets (the .lua scripts) next to the compiled JS, because tsc only emits
// what it compiles. Paths are relative to the cwd, which npm sets to the package being built.
//
// Usage: node scripts/copy-assets.mjs <srcDir> <destDir>
import { cp } from 'node:fs/promises';
import { resolve } from 'node:path';

const [src, dest] = process.argv.slice(2);
if (!src || !dest) {
  console.error('usage: node scripts/copy-assets.mjs <srcDir> <destDir>');
  process.exit(2);
}

await cp(resolve(src), resolve(dest), { recursive: true, force: true });
