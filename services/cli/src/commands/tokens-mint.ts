import type { Command } from '../command.js';
import { ApiClient } from '../api-client.js';
import { ExitCode } from '../exit-codes.js';
import { parseIntegerOption } from '../settings.js';
import { formatTime, renderFields } from '../table.js';
import { SESSION_ID_ARG, printJson } from './shared-args.js';

/** The API's own bound (shared/auth MAX_TOKEN_TTL_SECONDS): checked here for a clearer message. */
const MAX_TTL_SECONDS = 30 * 86_400;

interface Token {
  readonly token: string;
  readonly tokenExpiresAt: number;
}

export const tokensMint: Command = {
  path: ['tokens', 'mint'],
  summary: 'Mint a client token for an existing session',
  description: 'POST /v1/sessions/{id}/token. The token is a bearer secret: mind where the output goes.',
  args: [SESSION_ID_ARG],
  options: {
    consumer: { type: 'string', value: '<id>', description: 'Consumer the token is for (default: default)' },
    'ttl-seconds': {
      type: 'string',
      value: '<s>',
      description: `Lifetime, 1-${MAX_TTL_SECONDS} (default 3600)`,
    },
  },
  uses: ['api'],
  examples: [
    'holdfast tokens mint chat-42 --consumer phone',
    'TOKEN=$(holdfast tokens mint chat-42 --json | jq -r .token)',
  ],
  async run({ io, args, options, json, settings }) {
    const ttl = options['ttl-seconds'];
    const consumer = options['consumer'];
    const body = {
      ...(typeof consumer === 'string' ? { consumerId: consumer } : {}),
      ...(typeof ttl === 'string'
        ? { ttlSeconds: parseIntegerOption('ttl-seconds', ttl, 1, MAX_TTL_SECONDS) }
        : {}),
    };
    const api = new ApiClient(settings);
    const minted = await api.request<Token>(
      'POST',
      `/v1/sessions/${encodeURIComponent(args['id'] ?? '')}/token`,
      body,
    );
    const consumerId = typeof consumer === 'string' ? consumer : 'default';
    if (json) printJson(io.stdout, { sessionId: args['id'], consumerId, ...minted });
    else {
      io.stdout(
        renderFields([
          ['session', args['id'] ?? ''],
          ['consumer', consumerId],
          ['expires', formatTime(minted.tokenExpiresAt)],
          ['token', minted.token],
        ]),
      );
    }
    return ExitCode.Ok;
  },
};
