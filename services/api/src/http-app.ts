import { isUtf8 } from 'node:buffer';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { ErrorCode } from '@holdfast/protocol';
import type { Logger } from '@holdfast/config';
import type { Producer } from '@holdfast/producer';
import { ApiError, ApiErrorCode, retryAfterSeconds, toErrorBody } from './api-errors.js';
import type { ApiMetrics } from './api-metrics.js';
import type { ApiKeys } from './api-keys.js';
import { drainRequest } from './drain-request.js';
import { PROMETHEUS_TEXT, buildOpenApiDocument } from './openapi.js';
import { poisonedKey } from './poisoned-key.js';
import { toFastifyPath, type Route, type RouteContext } from './route-definition.js';
import { parseRequestPart } from './request-validation.js';

export interface HttpAppOptions {
  producer: Producer;
  apiKeys: ApiKeys;
  maxBodyBytes: number;
  /** The service's pino logger (the shared configuration): Fastify logs requests through it. */
  logger: Logger;
  metrics: ApiMetrics;
  /** True once shutdown started: new requests are refused with `server_draining`. */
  isClosing(): boolean;
  version: string;
}

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

export interface HttpApp {
  readonly fastify: FastifyInstance;
  /** Every route Fastify registered, as Fastify reported it (not as the table says). */
  readonly registeredRoutes: readonly RegisteredRoute[];
}

/**
 * The Fastify application: registers every route of the table, checks API keys, validates
 * requests with the routes' schemas and answers every failure as `{ code, message }`.
 */
export function createHttpApp(routes: readonly Route[], options: HttpAppOptions): HttpApp {
  const fastify = Fastify({
    // pino's Logger is a FastifyBaseLogger; typed as the base so the instance keeps Fastify's default type.
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.maxBodyBytes,
    // HEAD is not part of the API; the OpenAPI document lists exactly what is registered.
    exposeHeadRoutes: false,
    // Refused in our own error format instead (see the onRequest hook below).
    return503OnClosing: false,
    // Long path parameters reach validation and get `invalid_session_id`, not a bare 404.
    routerOptions: { maxParamLength: 1024 },
    // The router's own refusals (a path parameter over maxParamLength, or not decodable as
    // UTF-8) would answer with Fastify's codes; the only path parameter is the session id.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const body = toErrorBody(
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' || error.code === 'FST_ERR_BAD_URL'
          ? new ApiError(
              ErrorCode.InvalidSessionId,
              'the session id in the path is not 1-64 characters of A-Z a-z 0-9 _ -',
            )
          : error,
      );
      void reply.code(body.status).send(body.body);
    },
  });
  // JSON bodies must be UTF-8: decoding other bytes would store U+FFFD in place of the data sent.
  // Otherwise Fastify's own parser (refusing __proto__ and constructor.prototype keys).
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new ApiError(ApiErrorCode.InvalidJson, 'the body is not UTF-8'), undefined);
      return;
    }
    // Fastify's default parser answers through the callback; its type only allows for a promise.
    void parseJson(request, bytes.toString('utf8'), (error, parsed) => {
      // Fastify calls valid JSON with a forbidden key "not valid JSON": say what is wrong with it.
      const poisoned = error !== null && error !== undefined && poisonedKey(bytes);
      done(
        poisoned
          ? new ApiError(
              ApiErrorCode.InvalidJson,
              `the body has a ${poisoned} key, which the API refuses (prototype poisoning)`,
            )
          : error,
        parsed,
      );
    });
  });
  const registeredRoutes: RegisteredRoute[] = [];
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registeredRoutes.push({ method, url: route.url });
  });

  fastify.addHook('onResponse', async (request, reply) => {
    options.metrics.requestDuration.observe(
      {
        method: request.method,
        // The route template (never the session id in the path); one label for unknown paths.
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  fastify.addHook('onRequest', async () => {
    if (options.isClosing()) {
      throw new ApiError(ErrorCode.ServerDraining, 'the API is shutting down; retry on another instance');
    }
  });
  // Shutdown closes idle connections once, when it starts; a keep-alive connection whose
  // request was in flight then would stay open and hold the shutdown up. Closing it after the
  // response lets the shutdown finish as soon as the last request has been answered.
  fastify.addHook('onSend', async (_request, reply) => {
    if (options.isClosing()) void reply.header('connection', 'close');
  });

  const authorize = async (request: FastifyRequest): Promise<void> => {
    if (!options.apiKeys.authorize(request.headers.authorization)) {
      throw new ApiError(ApiErrorCode.Unauthorized, 'send a valid API key as `Authorization: Bearer <key>`');
    }
  };

  fastify.setErrorHandler(async (error, request, reply: FastifyReply) => {
    const { status, body, isBug } = toErrorBody(error);
    if (isBug) request.log.error({ err: error }, 'request failed');
    const retryAfter = retryAfterSeconds(body.code);
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    if (body.code === ApiErrorCode.Unauthorized) void reply.header('www-authenticate', 'Bearer');
    await drainRequest(request.raw);
    return reply.code(status).send(body);
  });

  fastify.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({
      code: ApiErrorCode.NotFound,
      message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
    }),
  );

  let document: Readonly<Record<string, unknown>> | undefined;
  const context: RouteContext = {
    producer: options.producer,
    isReady: () => options.producer.connected && !options.isClosing(),
    openApiDocument: () => (document ??= buildOpenApiDocument(routes, options.version)),
    metricsText: () => options.metrics.registry.metrics(),
    published: (duplicates) => options.metrics.published(duplicates),
  };

  for (const route of routes) {
    fastify.route({
      method: route.method,
      url: toFastifyPath(route.path),
      ...(route.auth ? { onRequest: authorize } : {}),
      handler: async (request, reply) => {
        // The schemas produced these values, so they have the types the handler was written for.
        const input = {
          params: parseRequestPart('params', route.params, request.params),
          query: parseRequestPart('query', route.query, request.query),
          headers: parseRequestPart('headers', route.headers, request.headers),
          body: parseRequestPart('body', route.body, request.body),
        } as Parameters<Route['handler']>[0];
        const result = await route.handler(input, context);
        void reply.code(route.response.status);
        if (route.response.text) void reply.type(PROMETHEUS_TEXT);
        return route.response.status === 204 ? reply.send() : result;
      },
    });
  }
  return { fastify, registeredRoutes };
}
