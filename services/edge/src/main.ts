import { createLogger, lifecycleLogger } from '@holdfast/config';
import { loadEdgeConfig } from './config.js';
import { EdgeServer } from './edge-server.js';
import { drainOnSignals } from './edge-shutdown.js';

/**
 * Edge process entry point. SIGTERM (and SIGINT) start a graceful drain (edge-shutdown.ts); the
 * process exits 0 when it is done, or when DRAIN_TIMEOUT_MS runs out, whichever comes first.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadEdgeConfig();
  } catch (error) {
    console.error(`holdfast edge: ${(error as Error).message}`);
    process.exit(2);
  }
  const logger = createLogger({ service: 'edge', level: config.logLevel });
  const edge = await EdgeServer.start(config, logger);
  lifecycleLogger(logger).info({ port: edge.port, host: config.host }, 'edge listening');
  drainOnSignals(edge, config.drainTimeoutMs, logger);
}

main().catch((error: unknown) => {
  console.error('holdfast edge failed to start:', error);
  process.exit(1);
});
