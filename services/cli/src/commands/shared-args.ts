import type { ArgumentSpec } from '../command.js';

export const SESSION_ID_ARG: ArgumentSpec = {
  name: 'id',
  description: 'Session id (1-64 characters of A-Z a-z 0-9 _ -)',
};

/** JSON on stdout, one document, for scripts (`--json`). */
export const printJson = (stdout: (text: string) => void, value: unknown): void =>
  stdout(`${JSON.stringify(value, null, 2)}\n`);
