export { InboundQueue } from './inbound-queue.js';
export {
  INBOX_RUN_JOB_NAME,
  LEGACY_INBOX_RUN_JOB_NAME,
  INBOUND_QUEUE_NAME,
  bullPrefix,
  inboxRunJobId,
  type InboxRunJobData,
} from './inbox-run-job.js';
