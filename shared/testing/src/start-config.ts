import { z } from 'zod';
import { parseEnv, port } from '@holdfast/config';

/**
 * `npm start`'s own settings (service `start` in the README configuration table), validated
 * before anything starts. The rest of the environment goes on to the services, which validate it
 * themselves; npm start only fills in development defaults (see scripts/start.ts). REDIS_URL is
 * the services' setting: when it is unset, npm start runs its own redis-server.
 */
export const startEnvSchema = z.object({
  /** The edge's port. */
  PORT: port.default(8080),
  API_PORT: port.default(8081),
  DEMO_PORT: port.default(8082),
  /** Its own redis-server's port (when REDIS_URL is unset). */
  HOLDFAST_REDIS_PORT: port.default(6390),
  /** Its redis-server's data and the development secrets; relative to the repository. */
  HOLDFAST_DATA_DIR: z.string().min(1).default('data'),
});

export type StartConfig = z.output<typeof startEnvSchema>;

export function loadStartConfig(env: NodeJS.ProcessEnv = process.env): StartConfig {
  return parseEnv(startEnvSchema, env, 'start');
}
