import type { Command } from '../command.js';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { printJson } from './shared-args.js';

export const edgesDrain: Command = {
  path: ['edges', 'drain'],
  summary: 'Drain an edge: its clients move to the other edges, then it exits',
  description: [
    "Asks the edge (POST /admin/drain, with the edges' EDGE_ADMIN_TOKEN) to start the drain",
    'SIGTERM starts: it stops taking connections, tells each client to move (spread over',
    'DRAIN_SPREAD_MS), stores their acks, and exits; your orchestrator starts a new one.',
    'Exit code 0 once the edge accepted; 5 when it refused the token; 7 when remote drain is',
    'off on that edge (no EDGE_ADMIN_TOKEN: send its process SIGTERM instead); 4 when it did',
    'not answer.',
  ].join('\n'),
  args: [{ name: 'edge', description: "The edge's base URL, as listed by `holdfast edges`" }],
  options: {},
  uses: ['edge-admin'],
  examples: ['HOLDFAST_EDGE_ADMIN_TOKEN=… holdfast edges drain http://10.0.0.5:8080'],
  async run({ args, io, json, settings }) {
    const edge = parseEdgeUrl(args['edge'] ?? '');
    const token = settings.adminToken;
    let response: Response;
    try {
      response = await fetch(`${edge}/admin/drain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (error) {
      throw new CliError(ExitCode.Unreachable, `${edge} did not answer: ${(error as Error).message}`);
    }
    const body = (await response.json().catch(() => ({}))) as { message?: unknown };
    const said = typeof body.message === 'string' ? body.message : `HTTP ${response.status}`;
    if (response.status === 202) {
      if (json) printJson(io.stdout, { edge, status: 'draining' });
      else io.stdout(`${edge}: draining (its clients move to the other edges, then it exits)\n`);
      return ExitCode.Ok;
    }
    if (response.status === 401)
      throw new CliError(ExitCode.Unauthorized, `${edge} refused the token: ${said}`);
    if (response.status === 404)
      throw new CliError(ExitCode.Unsupported, `${edge}: ${said}; send its process SIGTERM instead`);
    throw new CliError(ExitCode.Failure, `${edge} answered ${response.status}: ${said}`);
  },
};

function parseEdgeUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(ExitCode.Usage, `edge must be a URL such as http://10.0.0.5:8080, got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(ExitCode.Usage, `edge must be an http(s) URL, got '${text}'`);
  }
  return url.origin;
}
