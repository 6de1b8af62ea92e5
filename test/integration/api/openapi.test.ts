import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiErrorCode, routes, toFastifyPath, type ApiServer } from '@holdfast/api';
import { ErrorCode } from '@holdfast/protocol';
import { RedisServer } from '@holdfast/testing';
import { ApiClient, startTestApi } from './api-fixture.js';

interface Operation {
  operationId: string;
  security: unknown[];
  parameters: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: { required: boolean; content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: { code: { enum: string[] } } }> };
}

let redis: RedisServer;
let api: ApiServer;
let doc: OpenApiDocument;

beforeAll(async () => {
  redis = await RedisServer.start();
  api = await startTestApi(redis);
  const res = await new ApiClient(api.url).get<OpenApiDocument>('/openapi.json', { key: null });
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => {
  await api?.close();
  await redis?.destroy();
});

function documented(): string[] {
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${toFastifyPath(path)}`),
  );
}

it('documents every route Fastify registered, and registers every documented route', () => {
  const registered = api.registeredRoutes.map((r) => `${r.method} ${r.url}`);
  expect(registered.length).toBeGreaterThan(0);
  expect(new Set(registered).size).toBe(registered.length);
  expect([...documented()].sort()).toEqual([...registered].sort());
});

it('is an OpenAPI 3.1 document whose operations are complete', () => {
  expect(doc.openapi).toBe('3.1.0');
  const ids = new Set<string>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    const templateParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(operations)) {
      const where = `${method} ${path}`;
      expect(ids.has(op.operationId), where).toBe(false);
      ids.add(op.operationId);
      const pathParams = op.parameters.filter((p) => p.in === 'path');
      expect(
        pathParams.map((p) => p.name),
        where,
      ).toEqual(templateParams);
      expect(
        pathParams.every((p) => p.required),
        where,
      ).toBe(true);
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => s.startsWith('2')),
        where,
      ).toBe(true);
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${where} ${status}`).not.toBe('');
        if (!status.startsWith('2')) {
          expect(response.content?.['application/json']?.schema).toEqual({
            $ref: '#/components/schemas/Error',
          });
        }
      }
      if (method === 'post') expect(op.requestBody?.content['application/json'], where).toBeDefined();
    }
  }
  expect(ids.size).toBe(routes.length);
});

it('marks the API-key routes, and only them', () => {
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const op of Object.values(operations)) {
      const protectedRoute = path.startsWith('/v1/');
      expect(op.security, path).toEqual(protectedRoute ? [{ apiKey: [] }] : []);
      expect('401' in op.responses, path).toBe(protectedRoute);
    }
  }
});

it('lists every error code in the Error schema', () => {
  const codes = doc.components.schemas['Error']!.properties.code.enum;
  expect([...codes].sort()).toEqual([...Object.values(ErrorCode), ...Object.values(ApiErrorCode)].sort());
});

it('documents the publish body, the Idempotency-Key header and the read query', () => {
  const publish = doc.paths['/v1/sessions/{sessionId}/messages']!['post']!;
  expect(publish.parameters).toContainEqual(
    expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
  );
  expect(publish.requestBody?.required).toBe(true);
  expect(publish.requestBody?.content['application/json']?.schema).toMatchObject({
    type: 'object',
    additionalProperties: false,
    oneOf: [{ required: ['data'] }, { required: ['messages'] }],
  });
  const create = doc.paths['/v1/sessions']!['post']!;
  expect(create.requestBody?.required).toBe(false);
  expect(create.responses['201']).toBeDefined();
  const read = doc.paths['/v1/sessions/{sessionId}/messages']!['get']!;
  expect(read.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
    'path:sessionId',
    'query:from',
    'query:limit',
  ]);
  const del = doc.paths['/v1/sessions/{sessionId}']!['delete']!;
  expect(Object.keys(del.responses)).toEqual(expect.arrayContaining(['204', '404', '410']));
});
