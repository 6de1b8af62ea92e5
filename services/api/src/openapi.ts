import { z } from 'zod';
import { ApiErrorCode, statusOf, type AnyErrorCode } from './api-errors.js';
import type { Route } from './route-definition.js';
import { errorBodySchema } from './schemas.js';
import { ErrorCode } from '@holdfast/protocol';

/** Content type of Prometheus text exposition (GET /metrics). */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

type JsonSchema = Record<string, unknown>;

/** A schema as OpenAPI 3.1 embeds it (JSON Schema 2020-12 without the `$schema` marker). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): JsonSchema[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, 'input');
  const properties = (object['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name:
        where === 'header'
          ? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
          : name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description === undefined ? {} : { description }),
      schema: propertySchema,
    };
  });
}

/** Errors any route may answer with, on top of its own list. */
function commonErrors(route: Route): AnyErrorCode[] {
  const codes: AnyErrorCode[] = [ErrorCode.ServerDraining, ApiErrorCode.InternalError];
  if (route.auth) codes.push(ApiErrorCode.Unauthorized);
  if (route.body !== undefined) {
    codes.push(ApiErrorCode.InvalidJson, ApiErrorCode.BodyTooLarge, ApiErrorCode.UnsupportedMediaType);
  }
  if (route.params || route.query || route.headers || route.body) codes.push(ApiErrorCode.InvalidRequest);
  return codes;
}

function errorResponses(route: Route): Record<string, JsonSchema> {
  const byStatus = new Map<number, Set<AnyErrorCode>>();
  for (const code of [...route.errors, ...commonErrors(route)]) {
    const status = statusOf(code);
    byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
  }
  const responses: Record<string, JsonSchema> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: `\`code\` is one of: ${[...codes].map((c) => `\`${c}\``).join(', ')}`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return responses;
}

function operation(route: Route): JsonSchema {
  const { response } = route;
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [route.tag],
    security: route.auth ? [{ apiKey: [] }] : [],
    parameters: [
      ...parameters(route.params, 'path'),
      ...parameters(route.query, 'query'),
      ...parameters(route.headers, 'header'),
    ],
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            // A body schema that accepts nothing at all (it has a default) makes the body optional.
            required: !route.body.safeParse(undefined).success,
            content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
          },
        }),
    responses: {
      [String(response.status)]: {
        description: response.description,
        ...(response.schema === undefined
          ? {}
          : {
              content: {
                [response.text ? PROMETHEUS_TEXT : 'application/json']: {
                  schema: jsonSchema(response.schema, 'output'),
                },
              },
            }),
      },
      ...errorResponses(route),
    },
  };
}

/** The OpenAPI 3.1 document of a route table: the same table the server registers. */
export function buildOpenApiDocument(routes: readonly Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Holdfast HTTP API',
      version,
      description:
        'Create and end durable realtime sessions, publish messages idempotently, issue client tokens and read session logs. Errors are `{ code, message }`; see docs/api.md.',
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'One of the keys in the API_KEYS setting: `Authorization: Bearer <key>`.',
        },
      },
      schemas: { Error: jsonSchema(errorBodySchema, 'output') },
    },
  };
}
