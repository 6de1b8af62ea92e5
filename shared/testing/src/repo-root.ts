import { fileURLToPath } from 'node:url';

/**
 * The repository's root folder: services are started from their sources under it, and the
 * cluster runner reads docker-compose.yml and deploy/ from it. This package is only ever run from
 * its sources (it is never built), so the path is fixed relative to this file.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
