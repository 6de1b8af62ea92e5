import { createLogger, lifecycleLogger, runService } from '@holdfast/config';
import { startApi } from './api-server.js';
import { loadApiConfig } from './config.js';

/**
 * API process entry point (runService in @holdfast/config: signals and exit codes). SIGTERM (and
 * SIGINT) stop accepting connections, let requests in flight finish, close Redis and exit 0;
 * after SHUTDOWN_TIMEOUT_MS the process exits 1 anyway.
 */
await runService({
  name: 'api',
  configure: () => loadApiConfig(),
  logger: (config) => createLogger({ service: 'api', level: config.logLevel }),
  async start(config, logger) {
    const api = await startApi(config, logger);
    lifecycleLogger(logger).info({ port: api.port, host: config.host }, 'api listening');
    return api;
  },
  stop: (api) => api.close(),
  stopTimeoutMs: (config) => config.shutdownTimeoutMs,
  stopping: (_api, signal) => ({ msg: 'api stopping', signal }),
  timeoutMessage: 'shutdown timeout: exiting with requests in flight',
});
