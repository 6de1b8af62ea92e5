import type { Command } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { followLog } from '../log-follower.js';
import { withRedis } from '../redis-access.js';
import { parseIntegerOption } from '../settings.js';
import { SESSION_ID_ARG } from './shared-args.js';

export const sessionsTail: Command = {
  path: ['sessions', 'tail'],
  summary: "Follow a session's messages live (reads Redis)",
  description: [
    'Prints `<offset>  <data as JSON>` per message (--json: one JSON object per line), from',
    '--from (default: messages written from now on). Stops with exit code 0 once a completed',
    "session's last message is printed or after --count messages, 3 when the session is",
    'deleted or expires, 130 on Ctrl-C. Gaps (trimmed messages, an epoch change) go to stderr.',
  ].join('\n'),
  args: [SESSION_ID_ARG],
  options: {
    from: {
      type: 'string',
      value: '<offset>',
      description: 'First offset to print (1: everything retained)',
    },
    count: { type: 'string', value: '<n>', description: 'Stop after this many messages' },
  },
  uses: ['redis'],
  examples: ['holdfast sessions tail chat-42 --from 1', 'holdfast sessions tail chat-42 --json | jq .data'],
  async run({ io, args, options, json, settings }) {
    const from =
      typeof options['from'] === 'string'
        ? parseIntegerOption('from', options['from'], 1, Number.MAX_SAFE_INTEGER)
        : undefined;
    const count =
      typeof options['count'] === 'string'
        ? parseIntegerOption('count', options['count'], 1, Number.MAX_SAFE_INTEGER)
        : undefined;
    const end = await withRedis(settings, async (redis) =>
      followLog({
        log: await redis.sessionLog(),
        live: redis.liveSubscriptions(),
        sessionId: args['id'] ?? '',
        from,
        count,
        signal: io.interrupted,
        handlers: {
          onMessage: (m) =>
            io.stdout(json ? `${JSON.stringify(m)}\n` : `${m.offset}  ${JSON.stringify(m.data)}\n`),
          onNotice: (text) => io.stderr(`holdfast: ${text}\n`),
        },
      }),
    );
    if (end === 'completed') io.stderr('holdfast: the session is completed: that was its last message\n');
    return end === 'interrupted' ? ExitCode.Interrupted : ExitCode.Ok;
  },
};
