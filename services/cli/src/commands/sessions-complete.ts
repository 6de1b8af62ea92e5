import type { Command } from '../command.js';
import { ApiClient } from '../api-client.js';
import { ExitCode } from '../exit-codes.js';
import { parseIntegerOption } from '../settings.js';
import { formatTime, renderFields } from '../table.js';
import { SESSION_ID_ARG, printJson } from './shared-args.js';

interface Completed {
  readonly finalOffset: number;
  readonly epoch: string;
  readonly completedAt: number;
}

export const sessionsComplete: Command = {
  path: ['sessions', 'complete'],
  summary: 'Complete a session: no more messages, clients still receive all of them',
  description: [
    'POST /v1/sessions/{id}/complete. Idempotent: completing again prints the same answer.',
    'The session stays readable for its completed retention, then expires.',
  ].join('\n'),
  args: [SESSION_ID_ARG],
  options: {
    'retention-ms': {
      type: 'string',
      value: '<ms>',
      description: "How long it stays readable from now (default: the session's own, else the API's)",
    },
  },
  uses: ['api'],
  examples: ['holdfast sessions complete chat-42'],
  async run({ io, args, options, json, settings }) {
    const retention = options['retention-ms'];
    const body =
      typeof retention === 'string'
        ? { completedRetentionMs: parseIntegerOption('retention-ms', retention, 1, Number.MAX_SAFE_INTEGER) }
        : {};
    const api = new ApiClient(settings);
    const completed = await api.request<Completed>(
      'POST',
      `/v1/sessions/${encodeURIComponent(args['id'] ?? '')}/complete`,
      body,
    );
    if (json) printJson(io.stdout, { sessionId: args['id'], ...completed });
    else {
      io.stdout(
        renderFields([
          ['session', args['id'] ?? ''],
          ['completed', formatTime(completed.completedAt)],
          ['final offset', String(completed.finalOffset)],
          ['epoch', completed.epoch],
        ]),
      );
    }
    return ExitCode.Ok;
  },
};
