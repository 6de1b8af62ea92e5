import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { startLocalHaproxy, type LocalHaproxy, tokenFor, waitFor } from '@holdfast/testing';
import { RawClient } from '../../helpers/raw-client.js';
import { WireClient } from '../../bad-input/wire-client.js';
import { useBadInputEnvironment } from './bad-input-fixture.js';

const PER_IP = 3;
const PER_SESSION = 2;
const EVENTS_PER_SECOND = 50;
const EVENTS_BURST = 100;
const HAPROXY_CFG = fileURLToPath(new URL('../../../deploy/haproxy.cfg', import.meta.url));

// 127.0.0.1 (the tests' own clients, and HAProxy below) is the only trusted proxy. Hostile
// clients connect from other loopback addresses (127.0.0.0/8 is all local on Linux), so each is
// a distinct client address.
const env = useBadInputEnvironment({
  edgeEnv: {
    TRUSTED_PROXIES: '127.0.0.1',
    MAX_CONNECTIONS_PER_IP: String(PER_IP),
    MAX_CONNECTIONS_PER_SESSION: String(PER_SESSION),
    EVENTS_PER_SECOND: String(EVENTS_PER_SECOND),
    EVENTS_BURST: String(EVENTS_BURST),
  },
});

const open: WireClient[] = [];
afterEach(() => open.splice(0).forEach((client) => client.close()));

function upgrade(url: string, headers: Record<string, string> = {}, localAddress?: string): WireClient {
  const client = WireClient.start(url, headers, localAddress ? { localAddress } : {});
  open.push(client);
  return client;
}

/** Open `count` WebSockets that all succeed, then one more that must be refused with 429. */
async function expectAddressLimit(
  connect: (i: number) => WireClient,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const accepted = Array.from({ length: PER_IP }, (_, i) => connect(i));
  for (const client of accepted) expect(await client.upgradeOutcome()).toBeUndefined();
  const refused = await connect(PER_IP).upgradeOutcome();
  expect(refused).toBeDefined();
  return refused!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

describe('per-connection event floods', () => {
  /** Append→delivery time of `n` messages, one at a time, to a healthy client. */
  async function deliveryLatencies(n: number): Promise<number[]> {
    const sessionId = await env.createSession();
    const client = await RawClient.connect(env.edge.url, { sessionId, token: await tokenFor(sessionId) });
    try {
      const latencies: number[] = [];
      for (let i = 1; i <= n; i++) {
        const started = performance.now();
        await env.log.append(sessionId, { i });
        await client.waitForOffset(i);
        latencies.push(performance.now() - started);
      }
      return latencies;
    } finally {
      client.close();
    }
  }

  it('a flood gets rate_limited faults with a retry hint, keeps its connection, and does not slow other clients', async () => {
    const before = median(await deliveryLatencies(20));

    const sessionId = await env.createSession();
    const flooder = upgrade(env.edge.url);
    await flooder.upgradeOutcome();
    await flooder.joined({ sessionId, token: await tokenFor(sessionId) });
    let sent = 0;
    const flood = setInterval(() => {
      for (let i = 0; i < 50; i++, sent++) flooder.emit('ack', [{ epoch: 'x', offset: 0 }]);
    }, 5);
    let during: number;
    try {
      await waitFor(() => flooder.faultCodes().includes(ErrorCode.RateLimited), { what: 'rate_limited' });
      during = median(await deliveryLatencies(20));
    } finally {
      clearInterval(flood);
    }

    const faults = flooder.events('fault').map(([f]) => f as { code: string; retryAfterMs?: number });
    const limited = faults.filter((f) => f.code === ErrorCode.RateLimited);
    expect(limited.length).toBeGreaterThan(0);
    for (const fault of limited) expect(fault.retryAfterMs).toBeGreaterThan(0);
    // Only the burst and the sustained rate got through to be judged (as bad acks here).
    expect(faults.filter((f) => f.code === ErrorCode.InvalidAck).length).toBeLessThan(sent);
    expect(flooder.closed).toBeUndefined();
    // Loose on purpose (a shared 2-core machine): the flood must not make others wait for it.
    expect(during).toBeLessThan(Math.max(250, before * 10));

    // After the retry hint, the flooder is served normally again.
    const hint = Math.max(...limited.map((f) => f.retryAfterMs ?? 0));
    const since = Date.now();
    await waitFor(() => Date.now() - since > hint, { timeoutMs: hint + 2000, what: 'the retry hint' });
    const ackId = flooder.emit('token', [{ token: await tokenFor(sessionId) }], true)!;
    expect(await flooder.waitForAck(ackId)).toMatchObject({ ok: true });
    await env.expectStillServing();
  });
});

describe('connection floods per client address', () => {
  it(`WebSocket ${PER_IP + 1} from one address → 429 too_many_connections with a retry hint; a freed slot is reusable`, async () => {
    const refused = await expectAddressLimit(() => upgrade(env.edge.url, {}, '127.0.0.7'));
    expect(refused).toEqual({
      status: 429,
      body: { code: ErrorCode.TooManyConnections, message: expect.any(String), retryAfterMs: 1000 },
    });
    // Another address is not affected.
    expect(await upgrade(env.edge.url, {}, '127.0.0.17').upgradeOutcome()).toBeUndefined();
    // Closing one frees its slot.
    open[0]!.close();
    await waitFor(async () => (await upgrade(env.edge.url, {}, '127.0.0.7').upgradeOutcome()) === undefined, {
      what: 'a freed slot',
    });
    await env.expectStillServing();
  });

  it('counts connections that never join a session too (Engine.IO only)', async () => {
    const refused = await expectAddressLimit(() => upgrade(env.edge.url, {}, '127.0.0.8'));
    expect(refused.body['code']).toBe(ErrorCode.TooManyConnections);
    await env.expectStillServing();
  });

  it('ignores X-Forwarded-For from an untrusted peer: spoofed addresses do not escape the limit', async () => {
    const refused = await expectAddressLimit((i) =>
      upgrade(env.edge.url, { 'X-Forwarded-For': `203.0.113.${i + 1}` }, '127.0.0.9'),
    );
    expect(refused).toMatchObject({ status: 429, body: { code: ErrorCode.TooManyConnections } });
    await env.expectStillServing();
  });

  it('believes X-Forwarded-For from a trusted proxy: each forwarded client is counted on its own', async () => {
    const refused = await expectAddressLimit(() =>
      upgrade(env.edge.url, { 'X-Forwarded-For': '198.51.100.1' }),
    );
    expect(refused.body['code']).toBe(ErrorCode.TooManyConnections);
    // Another forwarded client, and one whose own (untrusted) hop claims to be the first.
    expect(
      await upgrade(env.edge.url, { 'X-Forwarded-For': '198.51.100.2' }).upgradeOutcome(),
    ).toBeUndefined();
    expect(
      await upgrade(env.edge.url, { 'X-Forwarded-For': '198.51.100.1, 198.51.100.3' }).upgradeOutcome(),
    ).toBeUndefined();
    await env.expectStillServing();
  });

  describe('behind HAProxy (deploy/haproxy.cfg)', () => {
    let lb: LocalHaproxy | undefined;
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'hf-bad-input-lb-'));
      const edge = { host: '127.0.0.1', port: env.edge.port };
      lb = await startLocalHaproxy({
        templatePath: HAPROXY_CFG,
        servers: { edge: [edge], api: [edge] },
        dir,
        checkInterval: '200ms',
      });
      await lb.waitForServersUp();
    });
    afterAll(async () => {
      await lb?.process.stop(5_000);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('the edge counts the client HAProxy saw, whatever X-Forwarded-For the client sends', async () => {
      const url = lb!.edgesUrl;
      const refused = await expectAddressLimit((i) =>
        upgrade(url, { 'X-Forwarded-For': `203.0.113.${i + 1}` }, '127.0.0.10'),
      );
      expect(refused).toMatchObject({ status: 429, body: { code: ErrorCode.TooManyConnections } });
      // Another client behind the same HAProxy is counted on its own, so it gets in.
      expect(await upgrade(url, {}, '127.0.0.11').upgradeOutcome()).toBeUndefined();
      await env.expectStillServing();
    });
  });
});

describe('connection floods per session', () => {
  // Each client comes "through a proxy" from its own address, so only the session limit applies.
  let nextAddress = 0;
  const fromOwnAddress = (): { extraHeaders: Record<string, string> } => ({
    extraHeaders: { 'X-Forwarded-For': `192.0.2.${++nextAddress}` },
  });

  it(`connection ${PER_SESSION + 1} of one session → too_many_connections; a freed slot is reusable`, async () => {
    const sessionId = await env.createSession();
    const clients = await Promise.all(
      Array.from({ length: PER_SESSION }, async (_, i) =>
        RawClient.connect(env.edge.url, {
          sessionId,
          token: await tokenFor(sessionId, { consumerId: `c${i}` }),
          ...fromOwnAddress(),
        }),
      ),
    );
    try {
      for (const client of clients) expect(client.hellos).toHaveLength(1);
      const refused = await env.expectRefused(
        { sessionId, token: await tokenFor(sessionId, { consumerId: 'c-extra' }), ...fromOwnAddress() },
        ErrorCode.TooManyConnections,
      );
      expect(refused.retryAfterMs).toBe(1000);
      clients[0]!.close();
      await waitFor(
        async () => {
          const again = await RawClient.connect(env.edge.url, {
            sessionId,
            token: await tokenFor(sessionId, { consumerId: 'c-extra' }),
            ...fromOwnAddress(),
          });
          again.close();
          return again.hellos.length === 1;
        },
        { what: 'a freed session slot' },
      );
    } finally {
      for (const client of clients) client.close();
    }
  });

  it('handshakes with bad tokens do not count: they cannot lock a session out', async () => {
    const sessionId = await env.createSession();
    const bad = await Promise.all(
      Array.from({ length: PER_SESSION * 3 }, () =>
        RawClient.connect(env.edge.url, { sessionId, token: 'not-a-token', ...fromOwnAddress() }),
      ),
    );
    expect(bad.map((c) => c.connectError?.message)).toEqual(bad.map(() => ErrorCode.TokenInvalid));
    bad.forEach((c) => c.close());
    const good = await RawClient.connect(env.edge.url, {
      sessionId,
      token: await tokenFor(sessionId),
      ...fromOwnAddress(),
    });
    try {
      expect(good.hellos).toHaveLength(1);
    } finally {
      good.close();
    }
    await env.expectStillServing();
  });
});
