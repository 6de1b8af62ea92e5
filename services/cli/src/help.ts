import type { Command, OptionSpec } from './command.js';
import { acceptedOptions } from './command-options.js';
import { COMMON_OPTIONS } from './settings.js';

const EXIT_CODES_HINT =
  'Exit codes: 0 ok, 2 usage, 3 not found, 4 unreachable, 5 unauthorized, 6 refused, 7 unsupported, 130 interrupted, 1 other (docs/operations.md).';

export function usageLine(command: Command): string {
  const args = command.args.map((arg) => `<${arg.name}>`).join(' ');
  return ['holdfast', ...command.path, args, '[options]'].filter((part) => part !== '').join(' ');
}

/** The whole tool: every command with its one-line summary. */
export function renderOverview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return [
    'holdfast: operate a Holdfast deployment (sessions, tokens, edges).',
    '',
    'Usage: holdfast <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    ...optionLines(COMMON_OPTIONS),
    '',
    "Run `holdfast <command> --help` for a command's options.",
    EXIT_CODES_HINT,
    '',
  ].join('\n');
}

/** One group (`holdfast sessions`): its commands. */
export function renderGroup(group: string, commands: readonly Command[]): string {
  const members = commands.filter((c) => c.path[0] === group);
  const width = Math.max(...members.map((c) => c.path.join(' ').length));
  return [
    `Usage: holdfast ${group} <command> [options]`,
    '',
    'Commands:',
    ...members.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    `Run \`holdfast ${group} <command> --help\` for a command's options.`,
    '',
  ].join('\n');
}

export function renderCommandHelp(command: Command, all: readonly Command[]): string {
  const lines = [`Usage: ${usageLine(command)}`, '', command.summary];
  if (command.description) lines.push('', command.description);
  if (command.args.length > 0) {
    const width = Math.max(...command.args.map((a) => a.name.length + 2));
    lines.push(
      '',
      'Arguments:',
      ...command.args.map((a) => `  ${`<${a.name}>`.padEnd(width)}  ${a.description}`),
    );
  }
  lines.push('', 'Options:', ...optionLines(acceptedOptions(command)));
  const subcommands = all.filter(
    (c) => c.path.length > command.path.length && command.path.every((word, i) => c.path[i] === word),
  );
  if (subcommands.length > 0) {
    lines.push('', 'Subcommands:', ...subcommands.map((c) => `  ${c.path.join(' ')}  ${c.summary}`));
  }
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  lines.push('', EXIT_CODES_HINT, '');
  return lines.join('\n');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const names = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...names.map(([flag]) => flag.length));
  return names.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}
