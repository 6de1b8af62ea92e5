import type { Command } from '../command.js';
import { ApiClient } from '../api-client.js';
import { ExitCode } from '../exit-codes.js';
import { readLeaseHolders } from '../lease-holders.js';
import { withRedis } from '../redis-access.js';
import { consumersOf, lifecycleOf, type SessionState } from '../session-view.js';
import { formatDuration, formatTime, renderFields, renderTable } from '../table.js';
import { SESSION_ID_ARG, printJson } from './shared-args.js';

export const sessionsInspect: Command = {
  path: ['sessions', 'inspect'],
  summary: 'Show a session: epoch, head, retention, state, consumers with acked offset, lag, lease holder',
  description: [
    "The session's state comes from the API (GET /v1/sessions/{id}); lease holders from Redis,",
    'which the API does not expose. The edge serving a holder is recorded nowhere: shown as -.',
  ].join('\n'),
  args: [SESSION_ID_ARG],
  options: {},
  uses: ['api', 'redis'],
  examples: ['holdfast sessions inspect chat-42', 'holdfast sessions inspect chat-42 --json | jq .consumers'],
  async run({ io, args, json, settings }) {
    const sessionId = args['id'] ?? '';
    const api = new ApiClient(settings);
    const state = await api.request<SessionState>('GET', `/v1/sessions/${encodeURIComponent(sessionId)}`);
    const holders = await withRedis(settings, async (redis) =>
      readLeaseHolders(await redis.connection(), (await redis.sessionLog()).keys(sessionId)),
    );
    const consumers = consumersOf(state, holders);
    const lifecycle = lifecycleOf(state);
    if (json) {
      printJson(io.stdout, {
        sessionId: state.sessionId,
        state: lifecycle,
        epoch: state.epoch,
        head: state.head,
        firstAvailable: state.firstAvailable,
        length: state.length,
        retention: state.retention,
        idleTtlMs: state.idleTtlMs,
        durable: state.durable,
        createdAt: state.createdAt,
        lastActiveAt: state.lastActiveAt,
        completedAt: state.completedAt ?? null,
        finalOffset: state.finalOffset ?? null,
        consumers,
      });
      return ExitCode.Ok;
    }
    io.stdout(
      renderFields([
        ['session', state.sessionId],
        ['state', lifecycle],
        ['epoch', state.epoch],
        ['head', String(state.head)],
        ['first available', String(state.firstAvailable)],
        ['length', String(state.length)],
        [
          'retention',
          `${state.retention.maxMessages === 0 ? 'unlimited' : state.retention.maxMessages} messages, ${formatDuration(state.retention.maxAgeMs)}`,
        ],
        ['idle expiry', formatDuration(state.idleTtlMs)],
        ['durable', state.durable ? 'yes' : 'no'],
        ['created', formatTime(state.createdAt)],
        ['last active', formatTime(state.lastActiveAt)],
        ['completed', formatTime(state.completedAt)],
        [
          'final offset',
          state.finalOffset === null || state.finalOffset === undefined ? '-' : String(state.finalOffset),
        ],
      ]),
    );
    io.stdout('\n');
    io.stdout(
      consumers.length === 0
        ? 'no consumers yet\n'
        : renderTable(
            ['CONSUMER', 'ACKED', 'LAG', 'CONNECTED', 'LEASE', 'HOLDER', 'EDGE'],
            consumers.map((c) => [
              c.consumerId,
              String(c.ackedOffset),
              String(c.lag),
              c.connected ? 'yes' : 'no',
              c.leaseHolder ? String(c.leaseHolder.generation) : '-',
              c.leaseHolder?.connection ?? '-',
              '-',
            ]),
          ),
    );
    return ExitCode.Ok;
  },
};
