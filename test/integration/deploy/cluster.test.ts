/**
 * The compose topology run by `npm run cluster` (startCluster: Redis, 3 edges, 2 workers, the API
 * and HAProxy from deploy/haproxy.cfg, all real processes): clients that know only HAProxy's
 * address keep their sessions, with nothing lost or delivered twice, while the edge they are on
 * is killed and while every edge is restarted in turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenIssuer, type TokenIssuer } from '@holdfast/auth';
import { SessionLog } from '@holdfast/session-log';
import { startCluster, type Cluster, waitFor } from '@holdfast/testing';
import { assertContiguous } from '../../helpers/raw-client.js';
import { ResumingClient } from '../../helpers/resuming-client.js';
import { uniqueId } from '../../helpers/session-log-fixture.js';
import { startProducer } from '../../helpers/producer-loop.js';

let cluster: Cluster;
let log: SessionLog;
let issuer: TokenIssuer;
const clients: ResumingClient[] = [];

// Nine processes to start on two cores, slower when other test files run alongside.
beforeAll(async () => {
  // A short drain spread (compose: 5 s) keeps the rolling restart quick; nothing else differs.
  cluster = await startCluster({ env: { edge: { DRAIN_SPREAD_MS: '500' } } });
  const edgeEnv = cluster.edges[0]!.options.env;
  log = new SessionLog({ redis: cluster.redis.url, keyPrefix: edgeEnv.HOLDFAST_KEY_PREFIX! });
  issuer = createTokenIssuer({
    algorithm: 'HS256',
    secret: edgeEnv.TOKEN_HS256_SECRETS!.split(',')[0]!,
    audience: edgeEnv.TOKEN_AUDIENCE!,
  });
}, 120_000);

afterAll(async () => {
  for (const client of clients.splice(0)) client.stop();
  await log?.close();
  await cluster?.stop();
});

async function newClient(): Promise<{ sessionId: string; client: ResumingClient }> {
  const sessionId = uniqueId();
  await log.createSession(sessionId);
  const { token } = await issuer.issue({ sessionId });
  // HAProxy's address is the only one the client knows: every reconnect goes through it.
  const client = new ResumingClient([cluster.haproxyUrl], { sessionId, token: () => token });
  clients.push(client);
  await client.start();
  return { sessionId, client };
}

/** Open client connections on each edge, from its /readyz. */
async function connectionsPerEdge(): Promise<number[]> {
  return Promise.all(
    cluster.edges.map(async (edge) => {
      const res = await fetch(`http://127.0.0.1:${edge.port}/readyz`);
      return ((await res.json()) as { connections: number }).connections;
    }),
  );
}

describe('the compose topology as local processes, behind HAProxy', () => {
  it('serves the whole path: API via HAProxy creates and publishes, the client receives, the worker answers', async () => {
    const apiKey = cluster.vars.API_KEYS!.split(',')[0]!;
    const post = async (path: string, body: unknown): Promise<Response> =>
      fetch(`${cluster.apiUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await post('/v1/sessions', {});
    expect(created.status).toBe(201);
    const { sessionId, token } = (await created.json()) as { sessionId: string; token: string };

    const client = new ResumingClient([cluster.haproxyUrl], { sessionId, token: () => token });
    clients.push(client);
    await client.start();
    expect((await post(`/v1/sessions/${sessionId}/messages`, { data: { hello: 'world' } })).status).toBe(200);
    await client.waitForOffset(1);
    expect(client.delivered[0]!.data).toEqual({ hello: 'world' });

    const sent = await client.connections[0]!.socket.emitWithAck('send', {
      id: 'prompt-1',
      data: { text: 'hi' },
    });
    expect(sent).toMatchObject({ ok: true });
    await waitFor(() => client.delivered.some((d) => JSON.stringify(d.data).includes('"final"')), {
      timeoutMs: 20_000,
      what: "the example agent's final reply",
    });
    client.stop();
  });

  it('keeps a session, nothing lost or doubled, when the edge it is on is killed (SIGKILL)', async () => {
    const { sessionId, client } = await newClient();
    const producer = startProducer(log, [sessionId], 5, 20);
    await client.waitForOffset(100);
    const before = await connectionsPerEdge();
    const victim = before.findIndex((n) => n > 0);
    expect(victim).toBeGreaterThanOrEqual(0);
    const edge = cluster.edges[victim]!;

    await edge.kill();
    await waitFor(() => client.connections.length === 2 && client.connected, {
      what: 'the client back through HAProxy on another edge',
    });
    await edge.restart(); // the cluster is whole again for the next test
    const head = (await producer.stop()).get(sessionId)!;
    await client.waitForOffset(head);
    client.stop();

    assertContiguous(client.delivered, 1, head);
    // The new connection resumed exactly after what the old one had delivered.
    expect(client.connections[1]!.hellos[0]!.startOffset).toBe(client.connections[0]!.lastOffset + 1);
    await cluster.waitForServersUp();
  });

  it('keeps every session through a rolling restart (each edge SIGTERMed, drained, restarted in turn)', async () => {
    const opened = await Promise.all(Array.from({ length: 12 }, () => newClient()));
    const producer = startProducer(
      log,
      opened.map((o) => o.sessionId),
      2,
      50,
    );
    await waitFor(() => opened.every((o) => o.client.lastOffset >= 4), { what: 'every client streaming' });
    // leastconn spread them: every edge has clients to move.
    expect((await connectionsPerEdge()).every((n) => n > 0)).toBe(true);

    for (const edge of cluster.edges) {
      edge.signal('SIGTERM');
      expect(await edge.waitForExit()).toEqual({ code: 0, signal: null });
      await edge.restart();
      await cluster.waitForServersUp();
    }

    const heads = await producer.stop();
    for (const { sessionId, client } of opened) {
      const head = heads.get(sessionId)!;
      await client.waitForOffset(head);
      client.stop();
      assertContiguous(client.delivered, 1, head);
      // Every client's first edge was restarted, so each moved at least once, each time told
      // to by its edge (a clean drain), never by a broken transport.
      expect(client.connections.length).toBeGreaterThanOrEqual(2);
      expect(client.disconnectReasons.slice(0, -1)).toEqual(
        Array(client.disconnectReasons.length - 1).fill('io server disconnect'),
      );
    }
  }, 120_000);
});
