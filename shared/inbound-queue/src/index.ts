export { InboundQueue } from './inbound-queue.js';
export {
  INBOX_RUN_JOB_NAME,
  LEGACY_INBOX_RUN_JOB_NAME,
  INBOUND_QUEUE_NAME,
  DEFAULT_INBOUND_QUEUES,
  MAX_INBOUND_QUEUES,
  bullPrefix,
  inboundQueueName,
  inboundQueueOf,
  inboxRunJobId,
  type InboxRunJobData,
} from './inbox-run-job.js';
export { bullConnection, isClusterConnection, type BullConnection } from './bull-connection.js';
