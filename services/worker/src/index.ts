export type { Handler, HandlerContext, InboundMessage } from './handler.js';
// The envelopes a worker writes are part of the protocol: import them from @holdfast/protocol.
export { attemptAbortedId, deadLetterId, replyId } from './envelopes.js';
export { FencedError } from './fenced-error.js';
export { WorkerStoppingError } from './worker-stopping-error.js';
export { DrainWorker, type DrainWorkerOptions } from './drain-worker.js';
export { drainInbox, type DrainDeps, type DrainOutcome, type RetryPolicy } from './drain.js';
export { DrainRun } from './drain-run.js';
export { retryDelayMs, sleep } from './backoff.js';
export { DeadLetterStream, type DeadLetter, type StoredDeadLetter } from './dead-letters.js';
export {
  DEAD_LETTER_CLEANUP,
  MAINTENANCE_QUEUE_NAME,
  Maintenance,
  RETENTION_SWEEP,
  sweepRetention,
  type RetentionLog,
} from './maintenance.js';
export {
  resubmitOrphanedDrains,
  type InboxProgress,
  type OrphanSweepDeps,
  type OrphanedDrain,
} from './orphaned-drains.js';
export { loadWorkerConfig, workerEnvSchema, type WorkerConfig } from './config.js';
export { loadHandler } from './load-handler.js';
export {
  createExampleAgent,
  exampleAgentEnvSchema,
  exampleAgentOptionsFromEnv,
  exampleReply,
} from './handlers/example-agent.js';
export { loggerReport, silentLog, type WorkerLog, type WorkerLogLevel } from './worker-log.js';
export { WorkerMetrics, type AttemptOutcome, type AttemptSink } from './worker-metrics.js';
export { listenForMetrics, type MetricsListener } from './metrics-listener.js';
