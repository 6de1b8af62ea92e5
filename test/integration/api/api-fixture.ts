import { loadApiConfig, startApi, type ApiServer } from '@holdfast/api';
import { TEST_TOKEN_SECRET, type RedisServer } from '@holdfast/testing';
import { uniqueId } from '../../helpers/session-log-fixture.js';

export const API_KEY = 'api-key-one-0123456789abcdef';
/** A second configured key: both are valid at once, as during a rotation. */
export const ROTATED_API_KEY = 'api-key-two-fedcba9876543210';

/** Environment of an API under test: its own key prefix, the edges' token secret, a free port. */
export function apiEnv(
  redis: Pick<RedisServer, 'url'>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    HOLDFAST_KEY_PREFIX: uniqueId('api'),
    API_KEYS: `${API_KEY},${ROTATED_API_KEY}`,
    TOKEN_HS256_SECRETS: TEST_TOKEN_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

/** An API in this process, configured through the same env parsing as the real process. */
export function startTestApi(
  redis: Pick<RedisServer, 'url'>,
  extra: Record<string, string> = {},
): Promise<ApiServer> {
  return startApi(loadApiConfig(apiEnv(redis, extra)));
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  body: T;
}

export interface RequestOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (with `content-type: application/json` unless `headers` say otherwise). */
  raw?: string;
  headers?: Record<string, string>;
  /** The API key to send; null sends no Authorization header. */
  key?: string | null;
}

/** A thin HTTP client over fetch: no retries, nothing hidden. */
export class ApiClient {
  constructor(
    readonly url: string,
    private readonly key: string = API_KEY,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const key = options.key === undefined ? this.key : options.key;
    const headers: Record<string, string> = {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(options.json !== undefined || options.raw !== undefined
        ? { 'content-type': 'application/json' }
        : {}),
      ...options.headers,
    };
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
      ...(options.raw !== undefined ? { body: options.raw } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  }

  get<T = Record<string, unknown>>(path: string, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, options);
  }

  post<T = Record<string, unknown>>(
    path: string,
    json?: unknown,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { ...(json === undefined ? {} : { json }), ...options });
  }

  delete<T = Record<string, unknown>>(path: string, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('DELETE', path, options);
  }

  /** Create a session (random id unless given) and return the response body. */
  async createSession(body: Record<string, unknown> = {}): Promise<CreatedSessionBody> {
    const res = await this.post<CreatedSessionBody>('/v1/sessions', body);
    if (res.status !== 201) throw new Error(`createSession: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

export interface CreatedSessionBody {
  sessionId: string;
  epoch: string;
  token: string;
  tokenExpiresAt: number;
}

export interface PublishBody {
  epoch: string;
  offsets: number[];
  duplicates: boolean[];
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
