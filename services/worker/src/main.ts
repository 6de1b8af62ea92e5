import { runService } from '@holdfast/config';
import { INBOUND_QUEUE_NAME } from '@holdfast/inbound-queue';
import { loadWorkerConfig } from './config.js';
import { InboxWorker } from './inbox-worker.js';
import { loadHandler } from './load-handler.js';
import { jsonLineLog } from './worker-log.js';

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
  async start({ config, handler }) {
    const worker = await InboxWorker.start({
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
      report: jsonLineLog,
    });
    console.log(
      JSON.stringify({
        msg: 'worker ready',
        pid: process.pid,
        queue: INBOUND_QUEUE_NAME,
        concurrency: config.concurrency,
        handler: config.handlerModule ?? 'example-agent',
      }),
    );
    return worker;
  },
  stop: (worker) => worker.close(),
  stopTimeoutMs: ({ config }) => config.shutdownTimeoutMs + HARD_EXIT_AFTER_GRACE_MS,
  stopping: (worker, signal) => ({ msg: 'worker stopping', signal, activeInboxRuns: worker.activeInboxRuns }),
  timeoutMessage: 'shutdown timeout: exiting with handlers still running',
});
