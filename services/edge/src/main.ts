import { loadEdgeConfig } from './config.js';
import { EdgeServer } from './edge-server.js';

/**
 * Edge process entry point. SIGTERM (and SIGINT) start a graceful drain; the process exits 0
 * when it is done, or when DRAIN_TIMEOUT_MS runs out, whichever comes first.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadEdgeConfig();
  } catch (error) {
    console.error(`holdfast edge: ${(error as Error).message}`);
    process.exit(2);
  }
  const edge = await EdgeServer.start(config);
  console.log(JSON.stringify({ msg: 'edge listening', port: edge.port, host: config.host }));

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ msg: 'edge draining', signal, connections: edge.connectionCount }));
    setTimeout(() => {
      console.error(JSON.stringify({ msg: 'drain timeout: exiting with connections open' }));
      process.exit(0);
    }, config.drainTimeoutMs).unref();
    edge.drain().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('drain failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('holdfast edge failed to start:', error);
  process.exit(1);
});
