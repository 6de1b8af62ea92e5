import { ExitCode } from './exit-codes.js';

/** A failure the CLI explains in one line and ends with its exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(ExitCode.Usage, message);
