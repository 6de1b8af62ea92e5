import type { Command } from '../command.js';
import { ApiClient } from '../api-client.js';
import { usageError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';
import { SESSION_ID_ARG, printJson } from './shared-args.js';

export const sessionsDelete: Command = {
  path: ['sessions', 'delete'],
  summary: 'Delete (purge) a session now; connected clients get session_ended',
  description: [
    'DELETE /v1/sessions/{id}: the log is gone at once and a tombstone stays 7 days. Unlike',
    'complete, clients that were away lose the end. Needs --yes, since nothing can undo it.',
  ].join('\n'),
  args: [SESSION_ID_ARG],
  options: { yes: { type: 'boolean', short: 'y', description: 'Really delete' } },
  uses: ['api'],
  examples: ['holdfast sessions delete chat-42 --yes'],
  async run({ io, args, options, json, settings }) {
    const sessionId = args['id'] ?? '';
    if (options['yes'] !== true) {
      throw usageError(`deleting ${sessionId} cannot be undone: add --yes (or complete it instead)`);
    }
    await new ApiClient(settings).request('DELETE', `/v1/sessions/${encodeURIComponent(sessionId)}`);
    if (json) printJson(io.stdout, { sessionId, deleted: true });
    else io.stdout(`deleted ${sessionId}\n`);
    return ExitCode.Ok;
  },
};
