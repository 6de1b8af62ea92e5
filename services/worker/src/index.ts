export type { Handler, HandlerContext, InboundMessage } from './handler.js';
// The envelopes a worker writes are part of the protocol: import them from @holdfast/protocol.
export { attemptAbortedId, deadLetterId, replyId } from './envelopes.js';
export { FencedError } from './fenced-error.js';
export { WorkerStoppingError } from './worker-stopping-error.js';
export { InboxWorker, type InboxWorkerOptions } from './inbox-worker.js';
export { runInbox, type InboxRunDeps, type InboxRunOutcome, type RetryPolicy } from './inbox-run.js';
export type { InboxLog } from './message-context.js';
export { InboxRunExecution } from './inbox-run-execution.js';
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
  resubmitOrphanedInboxRuns,
  type InboxProgress,
  type OrphanSweepDeps,
  type OrphanedInboxRun,
} from './orphaned-inbox-runs.js';
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
