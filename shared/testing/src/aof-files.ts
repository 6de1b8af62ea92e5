import { readdir, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';

export interface AofTruncation {
  file: string;
  sizeBefore: number;
  sizeAfter: number;
}

interface ManifestEntry {
  file: string;
  type: string;
}

/**
 * Cuts `bytes` off the end of the newest AOF increment in a stopped redis-server's data folder
 * `dir` (see RedisServer.truncateAofTail): writes lost in an OS crash.
 */
export async function truncateAofTailIn(dir: string, bytes: number): Promise<AofTruncation> {
  const aofDir = join(dir, 'appendonlydir');
  const manifestName = (await readdir(aofDir)).find((name) => name.endsWith('.manifest'));
  if (manifestName === undefined) throw new Error(`truncateAofTail: no *.manifest in ${aofDir}`);
  const manifest = await readFile(join(aofDir, manifestName), 'utf8');
  const incrFiles = parseManifest(manifest).filter((entry) => entry.type === 'i');
  const last = incrFiles.at(-1);
  if (last === undefined) throw new Error(`truncateAofTail: ${manifestName} lists no INCR file`);
  const file = join(aofDir, last.file);
  const sizeBefore = (await stat(file)).size;
  const sizeAfter = Math.max(0, sizeBefore - bytes);
  await truncate(file, sizeAfter);
  return { file, sizeBefore, sizeAfter };
}

/** Manifest lines are space-separated key/value pairs: `file <name> seq <n> type <b|h|i>`. */
function parseManifest(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < tokens.length; i += 2) {
      // Redis quotes names containing special characters; the default names never need it.
      fields.set(tokens[i] as string, (tokens[i + 1] as string).replace(/^"(.*)"$/, '$1'));
    }
    const file = fields.get('file');
    const type = fields.get('type');
    if (file !== undefined && type !== undefined) entries.push({ file, type });
  }
  return entries;
}
