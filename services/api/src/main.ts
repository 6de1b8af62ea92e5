import { createLogger, lifecycleLogger } from '@holdfast/config';
import { startApi } from './api-server.js';
import { loadApiConfig, type ApiConfig } from './config.js';

/**
 * API process entry point. SIGTERM (and SIGINT) stop accepting connections, let requests in
 * flight finish, close Redis and exit 0; after SHUTDOWN_TIMEOUT_MS the process exits 1 anyway.
 */
async function main(): Promise<void> {
  let config: ApiConfig;
  try {
    config = loadApiConfig();
  } catch (error) {
    console.error(`holdfast api: ${(error as Error).message}`);
    process.exit(2);
  }
  const logger = createLogger({ service: 'api', level: config.logLevel });
  const api = await startApi(config, logger);
  const lifecycle = lifecycleLogger(logger);
  lifecycle.info({ port: api.port, host: config.host }, 'api listening');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    lifecycle.info({ signal }, 'api stopping');
    setTimeout(() => {
      logger.error('shutdown timeout: exiting with requests in flight');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    api.close().then(
      () => {
        lifecycle.info('api stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('holdfast api failed to start:', error);
  process.exit(1);
});
