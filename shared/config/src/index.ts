export {
  booleanFlag,
  csv,
  keyPrefix,
  nonNegativeInt,
  port,
  positiveInt,
  redisProbeFields,
  redisUrl,
} from './env-fields.js';
export { parseEnv } from './parse-env.js';
export { ExitCode, runService, type ServiceDefinition, type ServiceHost } from './run-service.js';
