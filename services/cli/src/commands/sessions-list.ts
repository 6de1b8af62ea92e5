import { ErrorCode, isHoldfastError } from '@holdfast/protocol';
import type { SessionLog } from '@holdfast/session-log';
import type { Command } from '../command.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { ProgressLine } from '../progress.js';
import { withRedis } from '../redis-access.js';
import { consumersOf, lifecycleOf, type Lifecycle, type SessionState } from '../session-view.js';
import { parseIntegerOption } from '../settings.js';
import { formatTime, renderTable } from '../table.js';
import { printJson } from './shared-args.js';

const DEFAULT_LIMIT = 50;
/** Sessions whose info is read at once: enough to hide round trips, few enough to spare Redis. */
const INFO_CONCURRENCY = 16;

interface Filters {
  readonly state: Lifecycle | undefined;
  readonly connected: boolean;
}

export interface SessionSummary {
  readonly sessionId: string;
  readonly state: Lifecycle;
  readonly epoch: string;
  readonly head: number;
  readonly firstAvailable: number;
  readonly length: number;
  readonly consumers: number;
  readonly connectedConsumers: number;
  /** The largest lag of any consumer (0 without consumers). */
  readonly maxLag: number;
  readonly createdAt: number;
  readonly lastActiveAt: number;
  readonly completedAt: number | null;
}

export const sessionsList: Command = {
  path: ['sessions', 'list'],
  summary: 'List sessions, a page at a time (reads Redis: the API has no listing)',
  description: [
    "Walks the key space with SCAN (never blocks Redis) and reads each session's state. A page",
    'holds at least --limit matching sessions unless the walk ends (SCAN hands out batches, so',
    'sometimes a few more); the next page starts at the printed cursor. Cursor 0 means done.',
  ].join('\n'),
  args: [],
  options: {
    limit: {
      type: 'string',
      value: '<n>',
      description: `Sessions per page, 1-1000 (default ${DEFAULT_LIMIT})`,
    },
    cursor: { type: 'string', value: '<cursor>', description: "Continue from a previous page's cursor" },
    state: { type: 'string', value: '<open|completed>', description: 'Only sessions in this state' },
    connected: { type: 'boolean', description: 'Only sessions with a consumer connected now' },
  },
  uses: ['redis'],
  examples: [
    'holdfast sessions list --limit 20',
    "holdfast sessions list --state completed --json | jq -r '.sessions[].sessionId'",
  ],
  async run({ io, options, json, settings }) {
    const limit =
      typeof options['limit'] === 'string'
        ? parseIntegerOption('limit', options['limit'], 1, 1000)
        : DEFAULT_LIMIT;
    const cursor = typeof options['cursor'] === 'string' ? options['cursor'] : '0';
    if (!/^\d+$/.test(cursor))
      throw usageError(`--cursor must be a cursor printed by a previous page, got '${cursor}'`);
    const state = options['state'];
    if (state !== undefined && state !== 'open' && state !== 'completed') {
      throw usageError(`--state must be open or completed, got '${String(state)}'`);
    }
    const filters: Filters = { state, connected: options['connected'] === true };
    const progress = new ProgressLine(io);
    const page = await withRedis(settings, async (redis) =>
      collectPage(await redis.sessionLog(), cursor, limit, filters, (seen, listed) =>
        progress.update(`scanning: ${seen} sessions read, ${listed} listed`),
      ),
    );
    progress.clear();
    if (json) {
      printJson(io.stdout, { sessions: page.sessions, nextCursor: page.nextCursor });
    } else {
      io.stdout(
        renderTable(
          ['SESSION', 'STATE', 'HEAD', 'FIRST', 'LENGTH', 'CONNECTED', 'MAX LAG', 'LAST ACTIVE'],
          page.sessions.map((s) => [
            s.sessionId,
            s.state,
            String(s.head),
            String(s.firstAvailable),
            String(s.length),
            `${s.connectedConsumers}/${s.consumers}`,
            String(s.maxLag),
            formatTime(s.lastActiveAt),
          ]),
        ),
      );
      if (page.nextCursor !== null) {
        io.stderr(`more: holdfast sessions list --cursor ${page.nextCursor}\n`);
      }
    }
    return ExitCode.Ok;
  },
};

async function collectPage(
  log: SessionLog,
  start: string,
  limit: number,
  filters: Filters,
  onProgress: (seen: number, listed: number) => void,
): Promise<{ sessions: SessionSummary[]; nextCursor: string | null }> {
  const sessions: SessionSummary[] = [];
  let cursor = start;
  let seen = 0;
  do {
    const batch = await log.scanSessions(cursor, limit);
    cursor = batch.cursor;
    for (let i = 0; i < batch.sessionIds.length; i += INFO_CONCURRENCY) {
      const infos = await Promise.all(
        batch.sessionIds.slice(i, i + INFO_CONCURRENCY).map((id) => readInfo(log, id)),
      );
      for (const info of infos) {
        if (info && matches(info, filters)) sessions.push(summarize(info));
      }
      seen += infos.length;
      onProgress(seen, sessions.length);
    }
  } while (cursor !== '0' && sessions.length < limit);
  return { sessions, nextCursor: cursor === '0' ? null : cursor };
}

/** The session's state, or undefined when it ended or expired between SCAN and now. */
async function readInfo(log: SessionLog, sessionId: string): Promise<SessionState | undefined> {
  try {
    return await log.info(sessionId);
  } catch (error) {
    if (isHoldfastError(error, ErrorCode.SessionNotFound) || isHoldfastError(error, ErrorCode.SessionEnded)) {
      return undefined;
    }
    throw error;
  }
}

function matches(state: SessionState, filters: Filters): boolean {
  if (filters.state !== undefined && lifecycleOf(state) !== filters.state) return false;
  if (filters.connected && !Object.values(state.connected).some(Boolean)) return false;
  return true;
}

function summarize(state: SessionState): SessionSummary {
  const consumers = consumersOf(state);
  return {
    sessionId: state.sessionId,
    state: lifecycleOf(state),
    epoch: state.epoch,
    head: state.head,
    firstAvailable: state.firstAvailable,
    length: state.length,
    consumers: consumers.length,
    connectedConsumers: consumers.filter((c) => c.connected).length,
    maxLag: Math.max(0, ...consumers.map((c) => c.lag)),
    createdAt: state.createdAt,
    lastActiveAt: state.lastActiveAt,
    completedAt: state.completedAt ?? null,
  };
}
