import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export const REDIS_NOT_INSTALLED =
  'redis-server is not installed: run `npm run setup` (or apt-get install redis-server)';

/** Resolves `redis-server` on PATH, so a missing install fails with one actionable message. */
export async function findRedisServer(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry.
    }
  }
  throw new Error(REDIS_NOT_INSTALLED);
}
