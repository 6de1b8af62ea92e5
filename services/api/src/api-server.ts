import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@holdfast/config';
import { createProducer, type Producer } from '@holdfast/producer';
import { ApiKeys } from './api-keys.js';
import { ApiMetrics } from './api-metrics.js';
import type { ApiConfig } from './config.js';
import { createHttpApp, type RegisteredRoute } from './http-app.js';
import { routes } from './routes.js';

/** Version of the HTTP API, in its paths (`/v1`) and its OpenAPI document. */
export const API_VERSION = '1';

export interface ApiServer {
  /** `http://host:port` as bound. */
  readonly url: string;
  readonly port: number;
  /** Every route Fastify registered (for the route/OpenAPI sync test). */
  readonly registeredRoutes: readonly RegisteredRoute[];
  /**
   * Stop accepting connections, let requests in flight finish (new requests on open
   * connections get `server_draining`), then close Redis. Idempotent.
   */
  close(): Promise<void>;
}

/** Start the HTTP API: connect to Redis (fails when unreachable), then listen. */
export async function startApi(
  config: ApiConfig,
  logger: Logger = createLogger({ service: 'api', level: config.logLevel }),
): Promise<ApiServer> {
  const metrics = new ApiMetrics();
  const producer: Producer = createProducer({
    metricsRegistry: metrics.registry,
    redis: config.redisUrl,
    keyPrefix: config.keyPrefix,
    ...config.sharedLog,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    ...(config.completedRetentionMs === undefined
      ? {}
      : { completedRetentionMs: config.completedRetentionMs }),
    linkProbe: config.redisProbe,
    token: config.token,
  });
  try {
    await producer.ready();
  } catch (error) {
    await producer.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const app = createHttpApp(routes, {
    producer,
    apiKeys: new ApiKeys(config.apiKeys),
    maxBodyBytes: config.maxBodyBytes,
    logger,
    metrics,
    isClosing: () => closing !== undefined,
    version: API_VERSION,
  });
  try {
    await app.fastify.listen({ port: config.port, host: config.host });
  } catch (error) {
    await producer.close();
    throw error;
  }
  const { port } = app.fastify.server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    registeredRoutes: app.registeredRoutes,
    close() {
      closing ??= (async () => {
        try {
          await app.fastify.close();
        } finally {
          await producer.close();
        }
      })();
      return closing;
    },
  };
}
