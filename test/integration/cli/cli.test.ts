import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '@holdfast/auth';
import { SessionLog } from '@holdfast/session-log';
import { COMMANDS } from '@holdfast/cli';
import { EdgeProcess, TEST_TOKEN_SECRET, freePort, RedisServer, ApiProcess } from '@holdfast/testing';
import { CliProcess, runCli, type CliResult } from '../../helpers/cli-process.js';
import { API_KEY, ApiClient, apiEnv } from '../api/api-fixture.js';

// The ops CLI as operators run it: a real process against a real redis-server, API process and
// edge process, its settings only from the environment (or flags), its output parsed back.

let redis: RedisServer;
let api: ApiProcess;
let edge: EdgeProcess;
let log: SessionLog;
let client: ApiClient;
let env: Record<string, string>;
let keyPrefix: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  const apiSettings = apiEnv(redis);
  keyPrefix = apiSettings['HOLDFAST_KEY_PREFIX']!;
  // One after the other: two tsx start-ups at once on a loaded two-core box can take long.
  api = await ApiProcess.start(apiSettings);
  edge = await EdgeProcess.start({ redisUrl: redis.url, env: { HOLDFAST_KEY_PREFIX: keyPrefix } });
  log = new SessionLog({ redis: redis.url, keyPrefix });
  await log.ready();
  client = new ApiClient(api.url);
  env = {
    HOLDFAST_API_URL: api.url,
    HOLDFAST_API_KEY: API_KEY,
    REDIS_URL: redis.url,
    HOLDFAST_KEY_PREFIX: keyPrefix,
  };
});

afterAll(async () => {
  await log?.close();
  await Promise.all([api?.kill(), edge?.kill()]);
  await redis?.destroy();
});

const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);

async function createSession(messages: number): Promise<string> {
  const { sessionId } = await client.createSession();
  for (let i = 1; i <= messages; i++) {
    await client.post(`/v1/sessions/${sessionId}/messages`, { data: { n: i } });
  }
  return sessionId;
}

/** A failure as scripts see it: its exit code and exactly one line on stderr, nothing on stdout. */
function expectOneLineError(result: CliResult, code: number, text: string | RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^holdfast: /);
  expect(lines[0]).toMatch(text);
}

describe('help', () => {
  it('every command answers --help with its usage and exit code 0', async () => {
    const results = await Promise.all(COMMANDS.map((command) => cli(...command.path, '--help')));
    results.forEach((result, i) => {
      const path = COMMANDS[i]!.path.join(' ');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: holdfast ${path}`));
      expect(result.stdout).toContain('--json');
      expect(result.stdout).toContain('Exit codes:');
    });
  });

  it('the tool and each group list their commands; `help <command>` is `<command> --help`', async () => {
    const [top, group, viaHelp, bare] = await Promise.all([
      cli('--help'),
      cli('sessions', '--help'),
      cli('help', 'tokens', 'mint'),
      cli(),
    ]);
    expect(top.code).toBe(0);
    for (const command of COMMANDS) expect(top.stdout).toContain(command.path.join(' '));
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('sessions tail');
    expect(group.stdout).not.toContain('tokens mint');
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(/^Usage: holdfast tokens mint <id>/);
    // No command at all: the overview, on stderr, as a usage error.
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toContain('Usage: holdfast <command>');
  });
});

describe('sessions list', () => {
  let open: string;
  let completed: string;
  let empty: string;

  beforeAll(async () => {
    [open, completed, empty] = await Promise.all([createSession(3), createSession(2), createSession(0)]);
    await client.post(`/v1/sessions/${completed}/complete`, {});
  });

  it('--json lists every session with its state, head and retention window', async () => {
    const result = await cli('sessions', 'list', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(''); // no progress line: stderr is not a terminal
    const page = JSON.parse(result.stdout) as {
      sessions: Record<string, unknown>[];
      nextCursor: string | null;
    };
    expect(page.nextCursor).toBeNull();
    const byId = new Map(page.sessions.map((s) => [s['sessionId'], s]));
    expect(byId.get(open)).toMatchObject({
      state: 'open',
      head: 3,
      firstAvailable: 1,
      length: 3,
      consumers: 0,
    });
    expect(byId.get(completed)).toMatchObject({ state: 'completed', head: 2 });
    expect(byId.get(completed)?.['completedAt']).toEqual(expect.any(Number));
    expect(byId.get(empty)).toMatchObject({ state: 'open', head: 0, firstAvailable: 1, length: 0 });
  });

  it('prints a table for people', async () => {
    const result = await cli('sessions', 'list');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SESSION\s+STATE\s+HEAD\s+FIRST\s+LENGTH\s+CONNECTED\s+MAX LAG\s+LAST ACTIVE$/);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${open}\\s+open\\s+3\\s+1\\s+3\\s+0/0\\s+0\\s+\\d{4}-`)),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${completed}\\s+completed\\s+2\\s`)));
  });

  it('filters by state', async () => {
    const result = await cli('sessions', 'list', '--state', 'completed', '--json');
    expect(result.code, result.stderr).toBe(0);
    const ids = (JSON.parse(result.stdout) as { sessions: { sessionId: string; state: string }[] }).sessions;
    expect(ids.map((s) => s.sessionId)).toContain(completed);
    expect(ids.every((s) => s.state === 'completed')).toBe(true);
  });

  it('pages with --limit and --cursor until the cursor is null, every session once at least', async () => {
    const seen: string[] = [];
    let cursor: string | null = '0';
    let pages = 0;
    while (cursor !== null) {
      const result = await cli('sessions', 'list', '--limit', '1', '--cursor', cursor, '--json');
      expect(result.code, result.stderr).toBe(0);
      const page = JSON.parse(result.stdout) as {
        sessions: { sessionId: string }[];
        nextCursor: string | null;
      };
      seen.push(...page.sessions.map((s) => s.sessionId));
      cursor = page.nextCursor;
      pages += 1;
      expect(pages).toBeLessThan(50);
    }
    expect(new Set(seen)).toEqual(new Set([open, completed, empty, ...seen]));
    expect(seen).toEqual(expect.arrayContaining([open, completed, empty]));
  });
});

describe('sessions inspect', () => {
  it('shows consumers with acked offset, lag, presence and lease holder', async () => {
    const sessionId = await createSession(5);
    const { epoch } = await log.info(sessionId);
    // What an edge does for a client of consumer "phone": take the lease, then store its acks.
    // A lease long enough to outlast the test (an edge renews it; nobody does here).
    await log.claimLease(sessionId, 'phone', 'conn-phone-1', 10 * 60_000);
    await log.ack(sessionId, { epoch, offset: 2, consumerId: 'phone' });
    await log.ack(sessionId, { epoch, offset: 5, consumerId: 'laptop' });

    const json = await cli('sessions', 'inspect', sessionId, '--json');
    expect(json.code, json.stderr).toBe(0);
    const view = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(view).toMatchObject({ sessionId, state: 'open', epoch, head: 5, firstAvailable: 1, length: 5 });
    expect(view['consumers']).toEqual([
      { consumerId: 'laptop', ackedOffset: 5, lag: 0, connected: false, leaseHolder: null },
      {
        consumerId: 'phone',
        ackedOffset: 2,
        lag: 3,
        connected: true,
        leaseHolder: { connection: 'conn-phone-1', generation: 1, edge: null },
      },
    ]);

    const table = await cli('sessions', 'inspect', sessionId);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^session\\s+${sessionId}$`, 'm'));
    expect(table.stdout).toMatch(/^state\s+open$/m);
    expect(table.stdout).toMatch(/^head\s+5$/m);
    expect(table.stdout).toMatch(/^CONSUMER\s+ACKED\s+LAG\s+CONNECTED\s+LEASE\s+HOLDER\s+EDGE$/m);
    expect(table.stdout).toMatch(/^phone\s+2\s+3\s+yes\s+1\s+conn-phone-1\s+-$/m);
    expect(table.stdout).toMatch(/^laptop\s+5\s+0\s+no\s+-\s+-\s+-$/m);
  });
});

describe('sessions tail', () => {
  it('prints the log from --from, then follows new messages live', async () => {
    const sessionId = await createSession(2);
    const tail = CliProcess.spawn(
      ['sessions', 'tail', sessionId, '--from', '1', '--count', '4', '--json'],
      env,
    );
    // The first lines mean the tail is subscribed (it subscribes before it reads).
    await tail.waitForLines(2, 'the retained messages');
    await client.post(`/v1/sessions/${sessionId}/messages`, {
      messages: [{ data: 'three' }, { data: 'four' }],
    });
    const result = await tail.result();
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { offset: number; data: unknown });
    expect(lines.map((l) => [l.offset, l.data])).toEqual([
      [1, { n: 1 }],
      [2, { n: 2 }],
      [3, 'three'],
      [4, 'four'],
    ]);
  });

  it('stops with 0 after the last message of a completed session', async () => {
    const sessionId = await createSession(0);
    const tail = CliProcess.spawn(['sessions', 'tail', sessionId], env);
    // From now on: nothing was written yet. The publish lands once the tail is reading.
    await client.post(`/v1/sessions/${sessionId}/messages`, { data: 'before' });
    await client.post(`/v1/sessions/${sessionId}/messages`, { data: 'last' });
    await client.post(`/v1/sessions/${sessionId}/complete`, {});
    const result = await tail.result();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('completed');
    // Started before or after the publishes, it ends at the completion, never later.
    expect(result.stdout.trimEnd().split('\n').at(-1) ?? '').toMatch(/^(2 {2}"last")?$/);
  });

  it('prints a completed session as a table of `offset  data` lines and exits 0', async () => {
    const sessionId = await createSession(2);
    await client.post(`/v1/sessions/${sessionId}/complete`, {});
    const result = await cli('sessions', 'tail', sessionId, '--from', '1');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('1  {"n":1}\n2  {"n":2}\n');
  });

  it('exits 130 on Ctrl-C and 3 when the session is deleted meanwhile', async () => {
    const first = await createSession(1);
    const interrupted = CliProcess.spawn(['sessions', 'tail', first, '--from', '1'], env);
    await interrupted.waitForLines(1, 'the first message');
    interrupted.signal('SIGINT');
    expect((await interrupted.result()).code).toBe(130);

    const second = await createSession(1);
    const ended = CliProcess.spawn(['sessions', 'tail', second, '--from', '1'], env);
    await ended.waitForLines(1, 'the first message');
    expect((await client.request('DELETE', `/v1/sessions/${second}`)).status).toBe(204);
    const result = await ended.result();
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('session_ended');
  });
});

describe('sessions complete and delete', () => {
  it('complete prints the final offset (idempotent), as JSON and as a table', async () => {
    const sessionId = await createSession(3);
    const json = await cli('sessions', 'complete', sessionId, '--json');
    expect(json.code, json.stderr).toBe(0);
    const completed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(completed).toMatchObject({ sessionId, finalOffset: 3 });
    const again = await cli('sessions', 'complete', sessionId);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^final offset\s+3$/m);
    expect((await log.info(sessionId)).finalOffset).toBe(3);
  });

  it('delete needs --yes, then purges the session', async () => {
    const sessionId = await createSession(1);
    expectOneLineError(await cli('sessions', 'delete', sessionId), 2, /add --yes/);
    expect((await log.info(sessionId)).head).toBe(1);
    const deleted = await cli('sessions', 'delete', sessionId, '--yes', '--json');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ sessionId, deleted: true });
    expectOneLineError(await cli('sessions', 'inspect', sessionId), 3, /session_ended/);
  });
});

describe('tokens mint', () => {
  it('mints a token the edges accept, for the named consumer', async () => {
    const sessionId = await createSession(0);
    const result = await cli(
      'tokens',
      'mint',
      sessionId,
      '--consumer',
      'phone',
      '--ttl-seconds',
      '600',
      '--json',
    );
    expect(result.code, result.stderr).toBe(0);
    const minted = JSON.parse(result.stdout) as { token: string; tokenExpiresAt: number; consumerId: string };
    expect(minted.consumerId).toBe('phone');
    expect(minted.tokenExpiresAt - Date.now()).toBeGreaterThan(590_000);
    const verified = await createTokenVerifier({ hs256Secrets: [TEST_TOKEN_SECRET] }).verify(minted.token, {
      sessionId,
    });
    expect(verified.consumerId).toBe('phone');

    // Session ids may start with '-' (the API takes them as given): after `--` they are arguments.
    const dashed = (await client.createSession({ sessionId: '-Ldash-led-id' })).sessionId;
    expectOneLineError(await cli('tokens', 'mint', dashed), 2, /goes after --/);
    const afterDashes = await cli('tokens', 'mint', '--json', '--', dashed);
    expect(afterDashes.code, afterDashes.stderr).toBe(0);

    const table = await cli('tokens', 'mint', sessionId);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^consumer\s+default$/m);
    expect(table.stdout).toMatch(/^token\s+\S+\.\S+\.\S+$/m);
  });
});

describe('edges', () => {
  it('shows a live edge as ready with its connections, and an unreachable one as down (exit 4)', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const one = await runCli(['edges', '--json'], { ...env, HOLDFAST_EDGES: edge.url });
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({
      edges: [
        {
          url: edge.url,
          alive: true,
          ready: true,
          draining: false,
          redis: true,
          connections: 0,
          error: null,
        },
      ],
    });

    const both = await cli('edges', '--edges', `${edge.url},${dead}`);
    expect(both.code).toBe(4);
    const lines = both.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^EDGE\s+STATUS\s+REDIS\s+CONNECTIONS\s+ERROR$/);
    expect(lines[1]).toMatch(new RegExp(`^${edge.url}\\s+ready\\s+ok\\s+0$`));
    expect(lines[2]).toMatch(new RegExp(`^${dead}\\s+down\\s+-\\s+-\\s+ECONNREFUSED$`));
  });

  it('edges drain on an edge without EDGE_ADMIN_TOKEN says how to drain instead (exit 7: unsupported)', async () => {
    const withToken = await runCli(['edges', 'drain', edge.url], {
      ...env,
      HOLDFAST_EDGE_ADMIN_TOKEN: 'an-admin-token-of-enough-length',
    });
    expectOneLineError(withToken, 7, /EDGE_ADMIN_TOKEN.*SIGTERM/);
    expectOneLineError(await cli('edges', 'drain', edge.url), 5, /HOLDFAST_EDGE_ADMIN_TOKEN/);
  });

  it('edges drain drains an edge that has an admin token: refused with a wrong one, then it exits 0', async () => {
    const adminToken = 'the-edges-admin-token-1234';
    const drained = await EdgeProcess.start({
      redisUrl: redis.url,
      env: { HOLDFAST_KEY_PREFIX: keyPrefix, EDGE_ADMIN_TOKEN: adminToken, DRAIN_SPREAD_MS: '0' },
    });
    try {
      const wrong = await runCli(['edges', 'drain', drained.url], {
        ...env,
        HOLDFAST_EDGE_ADMIN_TOKEN: 'x'.repeat(20),
      });
      expectOneLineError(wrong, 5, /refused the token/);
      expect(drained.running).toBe(true);

      const right = await runCli(['edges', 'drain', drained.url, '--json'], {
        ...env,
        HOLDFAST_EDGE_ADMIN_TOKEN: adminToken,
      });
      expect(right.code).toBe(0);
      expect(JSON.parse(right.stdout)).toEqual({ edge: drained.url, status: 'draining' });
      // The signal's path: the same drain, bound and exit code as SIGTERM.
      expect((await drained.waitForExit()).code).toBe(0);
    } finally {
      await drained.kill();
    }
  });
});

describe('bad input gets one line on stderr and a distinct exit code', () => {
  it.each([
    ['an unknown command', ['sessions', 'frob'], 2, /unknown command 'sessions frob'/],
    ['an unknown top-level command', ['frob'], 2, /unknown command 'frob'/],
    ['a missing id', ['sessions', 'inspect'], 2, /missing <id>/],
    ['an unknown flag', ['sessions', 'list', '--frob'], 2, /unknown option '--frob'/],
    ['a flag of another command', ['sessions', 'list', '--edges', 'http://x'], 2, /unknown option '--edges'/],
    ['a flag without its value', ['sessions', 'list', '--limit'], 2, /'--limit' needs a value/],
    ['a malformed flag value', ['sessions', 'list', '--limit', 'many'], 2, /--limit must be an integer/],
    ['an extra argument', ['sessions', 'inspect', 'a', 'b'], 2, /unexpected argument 'b'/],
    ['a malformed session id', ['sessions', 'tail', 'no{braces}'], 2, /invalid_session_id/],
    ['an unknown session', ['sessions', 'inspect', 'no-such-session'], 3, /session_not_found/],
    ['an unknown session (Redis)', ['sessions', 'tail', 'no-such-session'], 3, /session_not_found/],
  ] as const)('%s', async (_what, args, code, text) => {
    expectOneLineError(await cli(...args), code, text);
  });

  it('an unreachable API or Redis: 4', async () => {
    const port = await freePort();
    expectOneLineError(
      await runCli(['sessions', 'complete', 'x'], { ...env, HOLDFAST_API_URL: `http://127.0.0.1:${port}` }),
      4,
      new RegExp(`cannot reach the API at http://127.0.0.1:${port}: ECONNREFUSED`),
    );
    expectOneLineError(
      await runCli(['sessions', 'list', '--timeout-ms', '300'], {
        ...env,
        REDIS_URL: `redis://:secret@127.0.0.1:${port}`,
      }),
      4,
      // The password never reaches the terminal.
      new RegExp(`cannot reach Redis at redis://:\\*\\*\\*@127.0.0.1:${port}`),
    );
  });

  it('a wrong or missing API key: 5', async () => {
    expectOneLineError(
      await runCli(['tokens', 'mint', 'x'], { ...env, HOLDFAST_API_KEY: 'not-the-key-0123456789' }),
      5,
      /refused the API key/,
    );
    const { HOLDFAST_API_KEY: _key, ...withoutKey } = env;
    expectOneLineError(
      await runCli(['tokens', 'mint', 'x'], withoutKey),
      5,
      /no API key: set HOLDFAST_API_KEY/,
    );
  });

  it('a malformed consumer id, refused by the API: 2, as if caught locally', async () => {
    const sessionId = await createSession(0);
    expectOneLineError(
      await cli('tokens', 'mint', sessionId, '--consumer', 'has space'),
      2,
      /invalid_consumer_id/,
    );
  });
});

it('runs as `npx holdfast` from the repository root', async () => {
  const { spawn } = await import('node:child_process');
  const result = await new Promise<CliResult>((resolve) => {
    const child = spawn('npx', ['--no-install', 'holdfast', 'sessions', '--help'], {
      cwd: new URL('../../..', import.meta.url),
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain('Usage: holdfast sessions <command>');
});
