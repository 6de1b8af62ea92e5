import { parseArgs } from 'node:util';
import type { CliIo } from './cli-io.js';
import type { Command } from './command.js';
import { acceptedOptions } from './command-options.js';
import { CliError, usageError } from './cli-error.js';
import { COMMANDS } from './commands/index.js';
import { describeFailure } from './failures.js';
import { ExitCode } from './exit-codes.js';
import { renderCommandHelp, renderGroup, renderOverview } from './help.js';
import { Settings } from './settings.js';

/**
 * Run one command line: pick the command from its leading words, parse its flags with
 * `util.parseArgs` (strict: an unknown flag is an error, never ignored), run it, and turn
 * any failure into one line on stderr and its exit code.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const failure = error instanceof CliError ? error : describeFailure(error);
    io.stderr(`holdfast: ${failure.message}\n`);
    return failure.exitCode;
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  // `holdfast help sessions list` is `holdfast sessions list --help`.
  if (argv[0] === 'help') return dispatch([...argv.slice(1), '--help'], io);
  const command = findCommand(argv);
  if (!command) return noCommand(argv, io);
  const rest = argv.slice(command.path.length);
  const parsed = parseCommandLine(command, rest);
  if (parsed.values['help'] === true) {
    io.stdout(renderCommandHelp(command, COMMANDS));
    return ExitCode.Ok;
  }
  const args = bindArguments(command, parsed.positionals);
  return command.run({
    io,
    args,
    options: parsed.values,
    json: parsed.values['json'] === true,
    settings: new Settings(parsed.values, io.env),
  });
}

/** The command whose words start the line (the longest match: `edges drain` before `edges`). */
function findCommand(argv: readonly string[]): Command | undefined {
  let found: Command | undefined;
  for (const command of COMMANDS) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && command.path.length > (found?.path.length ?? 0)) found = command;
  }
  return found;
}

function noCommand(argv: readonly string[], io: CliIo): ExitCode {
  const first = argv[0];
  const help = argv.includes('--help') || argv.includes('-h');
  if (first === undefined || first.startsWith('-')) {
    if (help && (first === '--help' || first === '-h')) {
      io.stdout(renderOverview(COMMANDS));
      return ExitCode.Ok;
    }
    if (first !== undefined) throw usageError(`unknown option '${first}'; see holdfast --help`);
    io.stderr(renderOverview(COMMANDS));
    return ExitCode.Usage;
  }
  const isGroup = COMMANDS.some((c) => c.path[0] === first);
  const second = argv[1];
  if (isGroup && (second === undefined || second.startsWith('-'))) {
    if (help) {
      io.stdout(renderGroup(first, COMMANDS));
      return ExitCode.Ok;
    }
    io.stderr(renderGroup(first, COMMANDS));
    return ExitCode.Usage;
  }
  const named = isGroup ? `${first} ${second ?? ''}` : first;
  const where = isGroup ? `holdfast ${first} --help` : 'holdfast --help';
  throw usageError(`unknown command '${named.trim()}'; see ${where}`);
}

function parseCommandLine(command: Command, rest: readonly string[]) {
  const options = acceptedOptions(command);
  try {
    return parseArgs({
      args: [...rest],
      options: Object.fromEntries(
        Object.entries(options).map(([name, spec]) => [
          name,
          spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageError(`${parseErrorText(error)}; see holdfast ${command.path.join(' ')} --help`);
  }
}

/** util.parseArgs explains itself in long sentences; one short clause is enough here. */
function parseErrorText(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^']*)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // A session id may start with '-', and parseArgs reads it as short flags: say how to pass it.
    const short = option !== undefined && !option.startsWith('--');
    return `unknown option '${option ?? message}'${short ? " (an argument starting with '-', such as a session id, goes after --)" : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /-{1,2}[A-Za-z-]+/.exec(message)?.[0] ?? '?';
    return message.includes('argument missing')
      ? `option '${flag}' needs a value`
      : `option '${flag}' takes no value`;
  }
  return message.split('\n')[0] ?? message;
}

function bindArguments(command: Command, positionals: readonly string[]): Record<string, string> {
  const args: Record<string, string> = {};
  command.args.forEach((spec, i) => {
    const value = positionals[i];
    if (value === undefined || value === '') {
      throw usageError(`missing <${spec.name}>: holdfast ${command.path.join(' ')} <${spec.name}>`);
    }
    args[spec.name] = value;
  });
  const extra = positionals[command.args.length];
  if (extra !== undefined) {
    throw usageError(`unexpected argument '${extra}'; see holdfast ${command.path.join(' ')} --help`);
  }
  return args;
}
