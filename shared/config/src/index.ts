export {
  booleanFlag,
  csv,
  inboundQueuesField,
  sharedLogConfig,
  sharedLogFields,
  keyPrefix,
  type SharedLogConfig,
  nonNegativeInt,
  port,
  positiveInt,
  redisProbeFields,
  redisUrl,
  replicationWait,
  type ReplicationWaitSetting,
} from './env-fields.js';
export { parseEnv } from './parse-env.js';
export { ExitCode, runService, type ServiceDefinition, type ServiceHost } from './run-service.js';
export {
  LOG_LEVELS,
  createLogger,
  lifecycleLogger,
  logLevelField,
  sessionLogger,
  silentLogger,
  type LogLevel,
  type Logger,
  type LoggerOptions,
  type SessionLogFields,
} from './logger.js';
