import { KEY_PREFIX_PATTERN, isClusterUrl, parseRedisTarget } from '@holdfast/protocol';
import type { Connection, OptionSpec } from './command.js';
import { CliError, usageError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

/**
 * Connection flags, each with the environment variable that stands in for it. Redis settings
 * use the services' own variable names, so the CLI works with a service's environment as is.
 */
export const CONNECTION_OPTIONS: Readonly<Record<Connection, Readonly<Record<string, OptionSpec>>>> = {
  api: {
    'api-url': {
      type: 'string',
      value: '<url>',
      description: 'Holdfast API base URL (env HOLDFAST_API_URL; default http://127.0.0.1:8081)',
    },
    'api-key': {
      type: 'string',
      value: '<key>',
      description: 'API key (env HOLDFAST_API_KEY; prefer the variable: flags show in `ps`)',
    },
  },
  redis: {
    'redis-url': {
      type: 'string',
      value: '<url>',
      description:
        'Redis of the deployment: redis://… or redis+cluster://host:port,… (env REDIS_URL; default redis://127.0.0.1:6379)',
    },
    'key-prefix': {
      type: 'string',
      value: '<prefix>',
      description: 'Key prefix of the deployment (env HOLDFAST_KEY_PREFIX; default hf)',
    },
  },
  edges: {
    edges: {
      type: 'string',
      value: '<urls>',
      description: 'Edge base URLs, comma-separated (env HOLDFAST_EDGES): edges register nowhere',
    },
  },
  'edge-admin': {
    'admin-token': {
      type: 'string',
      value: '<token>',
      description: "The edges' EDGE_ADMIN_TOKEN (env HOLDFAST_EDGE_ADMIN_TOKEN; prefer the variable)",
    },
  },
};

/** Flags every command takes. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', description: 'Print JSON for scripts instead of a table' },
  'timeout-ms': {
    type: 'string',
    value: '<ms>',
    description:
      'Give up on a service that does not answer within this (env HOLDFAST_TIMEOUT_MS; default 5000)',
  },
  help: { type: 'boolean', short: 'h', description: 'Show this help' },
};

const DEFAULT_API_URL = 'http://127.0.0.1:8081';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DEFAULT_KEY_PREFIX = 'hf';
const DEFAULT_TIMEOUT_MS = 5000;

/** Where the services are: each setting from its flag, else its environment variable, else a default. */
export class Settings {
  constructor(
    private readonly options: Readonly<Record<string, string | boolean | undefined>>,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  get apiUrl(): string {
    return parseUrl(this.pick('api-url', 'HOLDFAST_API_URL') ?? DEFAULT_API_URL, '--api-url', [
      'http:',
      'https:',
    ]).replace(/\/+$/, '');
  }

  get apiKey(): string {
    const key = this.pick('api-key', 'HOLDFAST_API_KEY');
    if (!key) {
      throw new CliError(ExitCode.Unauthorized, 'no API key: set HOLDFAST_API_KEY (or pass --api-key)');
    }
    return key;
  }

  get adminToken(): string {
    const token = this.pick('admin-token', 'HOLDFAST_EDGE_ADMIN_TOKEN');
    if (!token) {
      throw new CliError(
        ExitCode.Unauthorized,
        "no admin token: set HOLDFAST_EDGE_ADMIN_TOKEN to the edges' EDGE_ADMIN_TOKEN (or pass --admin-token)",
      );
    }
    return token;
  }

  get redisUrl(): string {
    const text = this.pick('redis-url', 'REDIS_URL') ?? DEFAULT_REDIS_URL;
    if (!isClusterUrl(text)) return parseUrl(text, '--redis-url', ['redis:', 'rediss:']);
    try {
      parseRedisTarget(text);
    } catch (error) {
      throw usageError(`--redis-url: ${(error as Error).message}`);
    }
    return text;
  }

  get keyPrefix(): string {
    const prefix = this.pick('key-prefix', 'HOLDFAST_KEY_PREFIX') ?? DEFAULT_KEY_PREFIX;
    if (!KEY_PREFIX_PATTERN.test(prefix)) {
      throw usageError(`--key-prefix must be 1-32 characters of A-Z a-z 0-9 _ . -, got '${prefix}'`);
    }
    return prefix;
  }

  get edgeUrls(): string[] {
    const list = this.pick('edges', 'HOLDFAST_EDGES');
    const urls = (list ?? '')
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url.length > 0);
    if (urls.length === 0) {
      throw usageError(
        'no edges to ask: pass --edges http://host:port,… or set HOLDFAST_EDGES (edges register nowhere)',
      );
    }
    return urls.map((url) => parseUrl(url, '--edges', ['http:', 'https:']).replace(/\/+$/, ''));
  }

  get timeoutMs(): number {
    const text = this.pick('timeout-ms', 'HOLDFAST_TIMEOUT_MS');
    return text === undefined ? DEFAULT_TIMEOUT_MS : parseIntegerOption('timeout-ms', text, 1, 600_000);
  }

  private pick(flag: string, variable: string): string | undefined {
    const value = this.options[flag];
    if (typeof value === 'string') return value;
    const fromEnv = this.env[variable];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  }
}

/** An integer flag within bounds, or a usage error naming the flag. */
export function parseIntegerOption(name: string, text: string, min: number, max: number): number {
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

function parseUrl(text: string, flag: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${flag} is not a URL: '${text}'`);
  }
  if (!protocols.includes(url.protocol)) {
    throw usageError(`${flag} must be a ${protocols.join(' or ')} URL, got '${text}'`);
  }
  return text;
}
