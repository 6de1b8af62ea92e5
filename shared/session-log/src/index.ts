export { SessionLog } from './session-log.js';
export { KEY_PREFIX_PATTERN, deadLetterKey, sessionKeys, type SessionKeys } from './keys.js';
export {
  DEFAULT_RETENTION,
  type GroupCommitOptions,
  type Retention,
  type SessionLogOptions,
  type ResolvedSessionLogOptions,
} from './options.js';
export type { MessageInput } from './payload.js';
export type {
  AckInput,
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
export { LiveSubscriptions, type LiveListener } from './live-subscriptions.js';
export {
  decodeLiveNotification,
  type LiveEntries,
  type LiveCompleted,
  type LiveEnded,
  type LiveNotification,
  type LiveResync,
} from './live-notification.js';
export type { InboundAccepted, InboundInput, InboundNext } from './inbox-types.js';
export {
  DEFAULT_LINK_PROBE,
  RedisLinkProbe,
  linkProbeBound,
  type LinkProbeOptions,
  type ProbedConnection,
  type ResolvedLinkProbeOptions,
} from './redis-link-probe.js';
