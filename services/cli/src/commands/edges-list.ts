import type { Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { probeEdge, type EdgeStatus } from '../edge-probe.js';
import { ProgressLine } from '../progress.js';
import { renderTable } from '../table.js';
import { printJson } from './shared-args.js';

export const edgesList: Command = {
  path: ['edges'],
  summary: 'Show each edge: alive, ready or draining, Redis links, connections',
  description: [
    'Edges register nowhere, so the CLI asks the edges you name (--edges or HOLDFAST_EDGES) on',
    'their /readyz. Exit code 0 when every edge answered, 4 when any did not (the table still',
    'shows all of them).',
  ].join('\n'),
  args: [],
  options: {},
  uses: ['edges'],
  examples: [
    'holdfast edges --edges http://10.0.0.5:8080,http://10.0.0.6:8080',
    'HOLDFAST_EDGES=… holdfast edges --json',
  ],
  async run({ io, json, settings }) {
    const urls = settings.edgeUrls;
    const progress = new ProgressLine(io);
    progress.update(`asking ${urls.length} edges`);
    const statuses = await Promise.all(urls.map((url) => probeEdge(url, settings.timeoutMs)));
    progress.clear();
    if (json) printJson(io.stdout, { edges: statuses });
    else {
      io.stdout(
        renderTable(
          ['EDGE', 'STATUS', 'REDIS', 'CONNECTIONS', 'ERROR'],
          statuses.map((s) => [
            s.url,
            statusWord(s),
            s.redis === null ? '-' : s.redis ? 'ok' : 'lost',
            s.connections === null ? '-' : String(s.connections),
            s.error ?? '',
          ]),
        ),
      );
    }
    return statuses.every((s) => s.alive) ? ExitCode.Ok : ExitCode.Unreachable;
  },
};

function statusWord(status: EdgeStatus): string {
  if (!status.alive) return 'down';
  if (status.draining) return 'draining';
  return status.ready ? 'ready' : 'not ready';
}
