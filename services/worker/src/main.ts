import { INBOUND_QUEUE_NAME } from '@holdfast/inbound-queue';
import { loadWorkerConfig } from './config.js';
import { DrainWorker } from './drain-worker.js';
import { loadHandler } from './load-handler.js';
import { jsonLineLog } from './worker-log.js';

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

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ msg: 'worker stopping', signal, activeDrains: worker.activeDrains }));
    setTimeout(() => {
      console.error(JSON.stringify({ msg: 'shutdown timeout: exiting with handlers still running' }));
      process.exit(1);
    }, config.shutdownTimeoutMs + HARD_EXIT_AFTER_GRACE_MS).unref();
    worker.close().then(
      () => {
        console.log(JSON.stringify({ msg: 'worker stopped' }));
        process.exit(0);
      },
      (error: unknown) => {
        console.error('worker shutdown failed', error);
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
