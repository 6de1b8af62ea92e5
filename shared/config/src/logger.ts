/**
 * The one logging configuration every Holdfast service uses (pino): LOG_LEVEL, JSON lines on
 * stdout by default, readable lines when stdout is a terminal, and the fields an operator
 * filters on (service, node, session, connection) carried by child loggers. Secrets never reach
 * a line: fields that could hold a token, an API key or a message payload are redacted here, in
 * one place, whoever logs them.
 */
import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import { z } from 'zod';
import { prettyLines } from './pretty-lines.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `LOG_LEVEL`, the same variable and values on every service. */
export const logLevelField = { LOG_LEVEL: z.enum(LOG_LEVELS).default('info') };

/**
 * Field names whose values are never written: tokens, API keys, authorization headers, secrets
 * and message data. At the top level, one level down (`{ err: { token } }`) and in requests.
 */
const SECRET_KEYS = ['token', 'apiKey', 'authorization', 'secret', 'password', 'data', 'payload', 'auth'];
const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
];

export interface LoggerOptions {
  /** `edge`, `api`, `worker`: every line says which service wrote it. */
  readonly service: string;
  /** @default 'info' */
  readonly level?: LogLevel;
  /** Which process of the service; @default `<hostname>:<pid>`. */
  readonly nodeId?: string;
  /** Where lines go; @default stdout (readable lines when it is a terminal, else JSON). */
  readonly destination?: DestinationStream;
}

/** A service's root logger; session lines come from `sessionLogger` children of it. */
export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination ?? (process.stdout.isTTY ? prettyLines(process.stdout) : pino.destination(1));
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, node: options.nodeId ?? `${hostname()}:${process.pid}` },
      // Level names, not numbers, so a grep for "error" finds errors.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/** A logger that writes nothing (tests and embedded use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The logger for a process's lifecycle lines (listening, ready, stopping, stopped): written at
 * info even when LOG_LEVEL is higher, unless it is `silent`, because scripts and operators wait
 * for them (`npm start` and the cluster runner find a worker's readiness in its "ready" line).
 */
export function lifecycleLogger(logger: Logger): Logger {
  const quieter = logger.levelVal > (pino.levels.values.info ?? 30);
  return quieter && logger.level !== 'silent' ? logger.child({}, { level: 'info' }) : logger;
}

/** What identifies the lines about one session (and one connection to it). */
export interface SessionLogFields {
  readonly sessionId: string;
  readonly connectionId?: string;
  readonly consumerId?: string;
}

/** A child logger whose every line carries the session (and connection) it is about. */
export function sessionLogger(parent: Logger, fields: SessionLogFields): Logger {
  return parent.child({ ...fields });
}
