import type { Command, OptionSpec } from './command.js';
import { COMMON_OPTIONS, CONNECTION_OPTIONS } from './settings.js';

/** Every flag a command accepts: its own, the connection flags of what it uses, the common ones. */
export function acceptedOptions(command: Command): Record<string, OptionSpec> {
  return Object.assign(
    {},
    command.options,
    ...command.uses.map((connection) => CONNECTION_OPTIONS[connection]),
    COMMON_OPTIONS,
  ) as Record<string, OptionSpec>;
}
