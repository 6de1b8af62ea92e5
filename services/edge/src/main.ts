import { createLogger, lifecycleLogger, runService } from '@holdfast/config';
import { loadEdgeConfig } from './config.js';
import { EdgeServer } from './edge-server.js';

/**
 * Edge process entry point (runService in @holdfast/config: signals and exit codes). SIGTERM (and
 * SIGINT) start a graceful drain (edge-shutdown.ts); the process exits 0 when it is done, or 1
 * when DRAIN_TIMEOUT_MS runs out first.
 */
await runService({
  name: 'edge',
  configure: () => loadEdgeConfig(),
  logger: (config) => createLogger({ service: 'edge', level: config.logLevel }),
  async start(config, logger) {
    // A remote drain (POST /admin/drain) takes the signal's path: one drain, one bound, one exit code.
    const edge = await EdgeServer.start(config, logger, () => process.kill(process.pid, 'SIGTERM'));
    lifecycleLogger(logger).info({ port: edge.port, host: config.host }, 'edge listening');
    return edge;
  },
  stop: (edge) => edge.drain(),
  stopTimeoutMs: (config) => config.drainTimeoutMs,
  stopping: (edge, signal) => ({ msg: 'edge draining', signal, connections: edge.connectionCount }),
  timeoutMessage: 'drain timeout: exiting with connections open',
});
