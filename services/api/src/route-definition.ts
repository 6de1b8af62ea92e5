import type { z } from 'zod';
import type { Producer } from '@holdfast/producer';
import type { AnyErrorCode } from './api-errors.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** What a schema parses to; `undefined` for a part of the request a route does not read. */
type Parsed<S> = [S] extends [z.ZodType] ? z.output<S> : undefined;

export interface RouteInput<P, Q, H, B> {
  params: Parsed<P>;
  query: Parsed<Q>;
  headers: Parsed<H>;
  body: Parsed<B>;
}

/** What handlers may use besides their validated input. */
export interface RouteContext {
  readonly producer: Producer;
  /** True while Redis is reachable and the API is not shutting down. */
  isReady(): boolean;
  /** The OpenAPI document of every route. */
  openApiDocument(): Readonly<Record<string, unknown>>;
  /** The API's metrics in Prometheus text format. */
  metricsText(): Promise<string>;
  /** Counts a publish (see api-metrics.ts). */
  published(duplicates: readonly boolean[]): void;
}

/**
 * One HTTP route: everything the server registers and the OpenAPI document describes comes
 * from here, so the two cannot drift apart. Request parts are validated with the zod schemas
 * before the handler runs; the response schema documents what the handler returns.
 */
export interface RouteSpec<P, Q, H, B, R extends z.ZodType> {
  method: HttpMethod;
  /** OpenAPI path template, e.g. `/v1/sessions/{sessionId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** True when the route needs `Authorization: Bearer <API key>`. */
  auth: boolean;
  params?: P;
  query?: Q;
  /** Header names in lower case. */
  headers?: H;
  body?: B;
  /** `text` answers the handler's string as Prometheus text; otherwise JSON. */
  response: { status: 200 | 201 | 204; description: string; schema?: R; text?: true };
  /** Error codes the route answers with besides the ones every route may (see openapi.ts). */
  errors: readonly AnyErrorCode[];
  // Method syntax keeps the parameter bivariant, so specs with different schemas share one table.
  handler(input: RouteInput<P, Q, H, B>, context: RouteContext): Promise<z.output<R> | undefined>;
}

export type Route = RouteSpec<
  z.ZodType | undefined,
  z.ZodType | undefined,
  z.ZodType | undefined,
  z.ZodType | undefined,
  z.ZodType
>;

/** Infers a route's input and output types from its schemas, then erases them for the table. */
export function defineRoute<
  R extends z.ZodType,
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  H extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, H, B, R>): Route {
  return spec as unknown as Route;
}

/** `/v1/sessions/{sessionId}` → `/v1/sessions/:sessionId`. */
export function toFastifyPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}
