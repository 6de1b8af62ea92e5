export type WorkerLogLevel = 'info' | 'warn' | 'error';

/** Where the worker reports what happens to messages and jobs. */
export type WorkerLog = (level: WorkerLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export const silentLog: WorkerLog = () => undefined;

/** One JSON object per line: info on stdout, warnings and errors on stderr. */
export const jsonLineLog: WorkerLog = (level, msg, fields = {}) => {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
  if (level === 'info') console.log(line);
  else console.error(line);
};

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
