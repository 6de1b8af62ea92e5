export { runCli } from './cli.js';
export type { CliIo } from './cli-io.js';
export { ExitCode } from './exit-codes.js';
export { COMMANDS } from './commands/index.js';
