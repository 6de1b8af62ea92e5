/**
 * How the worker's modules report what happens to messages and jobs: a narrow function, so they
 * need no logger type and tests can pass `silentLog`. The process writes it through the shared
 * pino configuration (`loggerReport`); lines about a session carry its `sessionId` field.
 */
import type { Logger } from '@holdfast/config';

export type WorkerLogLevel = 'info' | 'warn' | 'error';

export type WorkerLog = (level: WorkerLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export const silentLog: WorkerLog = () => undefined;

/** Reports through a pino logger (see @holdfast/config createLogger). */
export function loggerReport(logger: Logger): WorkerLog {
  return (level, msg, fields = {}) => logger[level](fields, msg);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
