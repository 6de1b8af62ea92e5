import { createLogger, lifecycleLogger } from '@holdfast/config';
import { INBOUND_QUEUE_NAME } from '@holdfast/inbound-queue';
import { loadWorkerConfig } from './config.js';
import { DrainWorker } from './drain-worker.js';
import { loadHandler } from './load-handler.js';
import { listenForMetrics, type MetricsListener } from './metrics-listener.js';
import { loggerReport } from './worker-log.js';
import { WorkerMetrics } from './worker-metrics.js';

/**
 * Worker process entry point. SIGTERM (and SIGINT) stop it gracefully: no new drains; running
 * messages get SHUTDOWN_TIMEOUT_MS to finish, then their handlers are aborted and their drains
 * handed back to the queue; exit 0. A handler that ignores its abort signal is cut off a little
 * later (exit 1): its drain resumes elsewhere once its lock expires.
 */
const HARD_EXIT_AFTER_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  let handler;
  try {
    config = loadWorkerConfig();
    handler = await loadHandler(config.handlerModule);
  } catch (error) {
    console.error(`holdfast worker: ${(error as Error).message}`);
    process.exit(2);
  }
  const logger = createLogger({ service: 'worker', level: config.logLevel });
  const lifecycle = lifecycleLogger(logger);
  const metrics = new WorkerMetrics({ url: config.redisUrl }, config.keyPrefix);
  const worker = await DrainWorker.start({
    redisUrl: config.redisUrl,
    keyPrefix: config.keyPrefix,
    handler,
    concurrency: config.concurrency,
    maxAttempts: config.maxAttempts,
    retryBaseMs: config.retryBaseMs,
    retryMaxMs: config.retryMaxMs,
    shutdownGraceMs: config.shutdownTimeoutMs,
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    deadLetterRetentionMs: config.deadLetterRetentionMs,
    sessionLog: { linkProbe: config.redisProbe },
    inboxSweepEveryMs: config.inboxSweepEveryMs,
    report: loggerReport(logger),
    metrics,
  });
  let listener: MetricsListener | undefined;
  if (config.metrics)
    listener = await listenForMetrics(metrics.registry, config.metrics.port, config.metrics.host);
  lifecycle.info(
    {
      queue: INBOUND_QUEUE_NAME,
      concurrency: config.concurrency,
      handler: config.handlerModule ?? 'example-agent',
      ...(listener ? { metricsPort: listener.port } : {}),
    },
    'worker ready',
  );

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    lifecycle.info({ signal, activeDrains: worker.activeDrains }, 'worker stopping');
    setTimeout(() => {
      logger.error('shutdown timeout: exiting with handlers still running');
      process.exit(1);
    }, config.shutdownTimeoutMs + HARD_EXIT_AFTER_GRACE_MS).unref();
    worker
      .close()
      .then(() => Promise.all([metrics.close(), listener?.close()]))
      .then(
        () => {
          lifecycle.info('worker stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'worker shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('holdfast worker failed to start:', error);
  process.exit(1);
});
