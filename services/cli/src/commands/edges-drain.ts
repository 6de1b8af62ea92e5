import type { Command } from '../command.js';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';

export const edgesDrain: Command = {
  path: ['edges', 'drain'],
  summary: 'Drain an edge (not offered remotely yet: says how to do it instead)',
  description: [
    'Edges drain on SIGTERM (clients are told to move, spread over DRAIN_SPREAD_MS, acks are',
    'stored, then the process exits) but expose no drain endpoint, so this command cannot do it',
    'for you: it exits with code 7 (unsupported) and names the way that works.',
  ].join('\n'),
  args: [{ name: 'edge', description: "The edge's base URL, as listed by `holdfast edges`" }],
  options: {},
  uses: [],
  async run({ args }) {
    throw new CliError(
      ExitCode.Unsupported,
      `edges expose no drain endpoint, so ${args['edge'] ?? 'the edge'} cannot be drained from here: send its process SIGTERM (docker stop, kubectl delete pod, systemctl stop), which drains it`,
    );
  },
};
