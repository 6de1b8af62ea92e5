export { SessionLog } from './session-log.js';
export type { OutboundLog } from './outbound-log.js';
export { RedisOutboundLog } from './outbound-log-redis.js';
export type { ConsumerLeases, HeldLease, LeaseClaim } from './consumer-leases.js';
export { CLAIM_BATCH, RedisConsumerLeases } from './consumer-leases-redis.js';
export { ACK_BATCH } from './ack-batches.js';
export { classifyFencedAck, classifyLease, type LeaseStatus } from './lease-status.js';
export type { Inbox } from './inbox.js';
export { RedisInbox } from './inbox-redis.js';
export { LogConnection } from './log-connection.js';
export { storedPartitions } from './key-layout-check.js';
export { scriptSources, type ScriptName } from './scripts.js';
export { ScriptStatus, type ScriptStatusName, type ScriptStatusValue } from './script-status.js';
export {
  DEFAULT_PARTITIONS,
  KEY_LAYOUT_VERSION,
  KEY_PREFIX_PATTERN,
  MAX_PARTITIONS,
  deadLetterKey,
  layoutKey,
  partitionOf,
  partitionTag,
  sessionKeys,
  type SessionKeys,
} from './keys.js';
export {
  DEFAULT_RETENTION,
  type GroupCommitOptions,
  type OldLayoutPolicy,
  type Retention,
  type SessionLogOptions,
  type ResolvedSessionLogOptions,
} from './options.js';
export type { MessageInput } from './payload.js';
export { replicationTimeout, resolveReplicationWait, type ReplicationWait } from './replication-wait.js';
export { runReplicated, type ReplicatedReply, type ScriptInvocation } from './replicated-scripts.js';
export type { AppendTrace, AppendTraceObserver } from './append-trace.js';
export type {
  AckInput,
  AppendBatchOptions,
  AppendResult,
  CompleteSessionOptions,
  CreateSessionOptions,
  EndReason,
  LogEntry,
  ReadResult,
  SessionCompleted,
  SessionCreated,
  SessionInfo,
} from './types.js';
export type { ServerIdentity } from './server-identity.js';
export { START_BATCH, type FirstRead, type InfoAndRead } from './start-batches.js';
export { everyMaster } from './cluster-probe.js';
export { clusterSlotOf } from './cluster-slot.js';
export {
  createRedisLink,
  isClusterLink,
  isClusterTarget,
  type CommandLink,
  type RedisConnectionTarget,
  type RedisLink,
  type RedisRole,
} from './redis-clients.js';
export { LiveSubscriptions, type LiveListener, type LiveReceiver } from './live-subscriptions.js';
export {
  decodeLiveNotification,
  type LiveEntries,
  type LiveCompleted,
  type LiveEnded,
  type LiveNotification,
  type LiveResync,
} from './live-notification.js';
export type {
  InboundAccepted,
  InboundInput,
  InboundNext,
  InboundStep,
  InboundStepResult,
} from './inbox-types.js';
export {
  DEFAULT_LINK_PROBE,
  RedisLinkProbe,
  linkProbeBound,
  type LinkProbeOptions,
  type ProbedConnection,
  type ResolvedLinkProbeOptions,
} from './redis-link-probe.js';
