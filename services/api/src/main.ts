import { runService } from '@holdfast/config';
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
  async start(config) {
    const api = await startApi(config);
    console.log(JSON.stringify({ msg: 'api listening', port: api.port, host: config.host }));
    return api;
  },
  stop: (api) => api.close(),
  stopTimeoutMs: (config) => config.shutdownTimeoutMs,
  stopping: (_api, signal) => ({ msg: 'api stopping', signal }),
  timeoutMessage: 'shutdown timeout: exiting with requests in flight',
});
