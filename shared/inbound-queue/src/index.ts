export { InboundQueue } from './inbound-queue.js';
export {
  DRAIN_JOB_NAME,
  INBOUND_QUEUE_NAME,
  bullPrefix,
  drainJobId,
  type DrainJobData,
} from './drain-job.js';
