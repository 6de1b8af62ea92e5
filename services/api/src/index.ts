export { startApi, API_VERSION, type ApiServer } from './api-server.js';
export { loadApiConfig, apiEnvSchema, MIN_API_KEY_LENGTH, type ApiConfig, type LogLevel } from './config.js';
export { ApiErrorCode, ApiError, statusOf, type AnyErrorCode, type ErrorBody } from './api-errors.js';
export { ApiKeys } from './api-keys.js';
export { buildOpenApiDocument } from './openapi.js';
export { routes } from './routes.js';
export { toFastifyPath, type Route, type HttpMethod } from './route-definition.js';
export type { RegisteredRoute } from './http-app.js';
export {
  completeSessionResponseSchema,
  consumerIdSchema,
  messageIdSchema,
  sessionIdSchema,
  createSessionResponseSchema,
  errorBodySchema,
  publishResponseSchema,
  readResponseSchema,
  sessionInfoResponseSchema,
  tokenResponseSchema,
} from './schemas.js';
