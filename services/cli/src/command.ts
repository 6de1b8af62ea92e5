import type { CliIo } from './cli-io.js';
import type { ExitCode } from './exit-codes.js';
import type { Settings } from './settings.js';

/** A flag of a command, in `util.parseArgs` terms plus what help shows. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder of the value in help, e.g. `<n>`. */
  readonly value?: string;
  readonly description: string;
}

export interface ArgumentSpec {
  readonly name: string;
  readonly description: string;
}

/** Which service a command talks to: decides the connection flags it accepts. */
export type Connection = 'api' | 'redis' | 'edges' | 'edge-admin';

export interface CommandContext {
  readonly io: CliIo;
  /** Positional arguments by name (all required). */
  readonly args: Readonly<Record<string, string>>;
  /** Parsed flags of the command (connection flags are read through `settings`). */
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  /** --json: one JSON document (or one per line when following) on stdout instead of a table. */
  readonly json: boolean;
  readonly settings: Settings;
}

export interface Command {
  /** The words that name it: `['sessions', 'list']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Longer help text, shown by --help below the usage line. */
  readonly description?: string;
  readonly args: readonly ArgumentSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly uses: readonly Connection[];
  readonly examples?: readonly string[];
  run(context: CommandContext): Promise<ExitCode>;
}
