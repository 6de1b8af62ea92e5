import { createLogger, lifecycleLogger, runService } from '@holdfast/config';
import { bullConnection } from '@holdfast/inbound-queue';
import { loadWorkerConfig } from './config.js';
import { InboxWorker } from './inbox-worker.js';
import { loadHandler } from './load-handler.js';
import { listenForMetrics } from './metrics-listener.js';
import { loggerReport } from './worker-log.js';
import { WorkerMetrics } from './worker-metrics.js';

/**
 * Worker process entry point (runService in @holdfast/config: signals and exit codes). SIGTERM
 * (and SIGINT) stop it gracefully: no new inbox runs; running messages get SHUTDOWN_TIMEOUT_MS
 * to finish, then their handlers are aborted and their inbox runs handed back to the queue; exit
 * 0. A handler that ignores its abort signal is cut off a little later (exit 1): its inbox run resumes
 * elsewhere once its lock expires. A handler module that cannot be loaded is bad configuration
 * (exit 2), like a bad variable.
 */
const HARD_EXIT_AFTER_GRACE_MS = 10_000;

await runService({
  name: 'worker',
  async configure() {
    const config = loadWorkerConfig();
    return { config, handler: await loadHandler(config.handlerModule) };
  },
  logger: ({ config }) => createLogger({ service: 'worker', level: config.logLevel }),
  async start({ config, handler }, logger) {
    const metricsLink = bullConnection(config.redisUrl);
    const metrics = new WorkerMetrics(metricsLink.connection, config.keyPrefix, config.inboundQueues);
    const worker = await InboxWorker.start({
      redisUrl: config.redisUrl,
      keyPrefix: config.keyPrefix,
      handler,
      concurrency: config.concurrency,
      inboundQueues: config.inboundQueues,
      maxAttempts: config.maxAttempts,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
      shutdownGraceMs: config.shutdownTimeoutMs,
      lockDurationMs: config.lockDurationMs,
      stalledIntervalMs: config.stalledIntervalMs,
      deadLetterRetentionMs: config.deadLetterRetentionMs,
      sessionLog: { linkProbe: config.redisProbe, ...config.sharedLog },
      inboxSweepEveryMs: config.inboxSweepEveryMs,
      report: loggerReport(logger),
      metrics,
    });
    const listener = config.metrics
      ? await listenForMetrics(metrics.registry, config.metrics.port, config.metrics.host)
      : undefined;
    lifecycleLogger(logger).info(
      {
        inboundQueues: config.inboundQueues,
        concurrency: config.concurrency,
        handler: config.handlerModule ?? 'example-agent',
        ...(listener ? { metricsPort: listener.port } : {}),
      },
      'worker ready',
    );
    return { worker, metrics, metricsLink, listener };
  },
  async stop({ worker, metrics, metricsLink, listener }) {
    await worker.close();
    await Promise.all([metrics.close(), listener?.close()]);
    await metricsLink.close();
  },
  stopTimeoutMs: ({ config }) => config.shutdownTimeoutMs + HARD_EXIT_AFTER_GRACE_MS,
  stopping: ({ worker }, signal) => ({
    msg: 'worker stopping',
    signal,
    activeInboxRuns: worker.activeInboxRuns,
  }),
  timeoutMessage: 'shutdown timeout: exiting with handlers still running',
});
