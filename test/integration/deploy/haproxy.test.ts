/**
 * deploy/haproxy.cfg's behaviour, with the dev certificate and two stub backends standing in for
 * edges (cheap and fully controllable; the real edges behind it are in cluster.test.ts): TLS
 * termination, X-Forwarded-* headers, WebSocket upgrades, /metrics kept private, readiness
 * taking a node out of rotation, and a refused connection retried on another node.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startLocalHaproxy, type LocalHaproxy, waitFor } from '@holdfast/testing';
import { HAPROXY_CFG, makeDevCert } from './deploy-files.js';

interface Stub {
  readonly name: string;
  readonly port: number;
  server: Server;
  ready: boolean;
  requests: number;
}

async function startStub(name: string, port?: number): Promise<Stub> {
  const stub: Stub = {
    name,
    port: port ?? (await freePort()),
    server: createServer(),
    ready: true,
    requests: 0,
  };
  stub.server.on('request', (req: IncomingMessage, res) => {
    if (req.url === '/readyz') {
      res.writeHead(stub.ready ? 200 : 503).end();
      return;
    }
    stub.requests++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        server: name,
        url: req.url,
        forwardedFor: req.headers['x-forwarded-for'],
        forwardedProto: req.headers['x-forwarded-proto'],
      }),
    );
  });
  // A WebSocket handshake answered by hand, then an echo of whatever bytes come through the tunnel.
  stub.server.on('upgrade', (req: IncomingMessage, socket) => {
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Served-By: ${name}\r\n\r\n`,
    );
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => stub.server.listen(stub.port, '127.0.0.1', resolve));
  return stub;
}

let cert: Awaited<ReturnType<typeof makeDevCert>>;
let ca: Buffer;
let stubs: Stub[] = [];
let lb: LocalHaproxy;

beforeAll(async () => {
  cert = await makeDevCert();
  ca = await readFile(cert.crt);
  stubs = [await startStub('a'), await startStub('b')];
  lb = await startLocalHaproxy({
    templatePath: HAPROXY_CFG,
    servers: {
      edge: stubs.map((s) => ({ host: '127.0.0.1', port: s.port })),
      api: [{ host: '127.0.0.1', port: stubs[0]!.port }],
    },
    dir: cert.dir,
    tlsCert: cert.pem,
    checkInterval: '200ms',
  });
  await lb.waitForServersUp();
});

afterAll(async () => {
  await lb?.process.stop(5_000);
  for (const stub of stubs) stub.server.closeAllConnections();
  await Promise.all(stubs.map((stub) => new Promise((resolve) => stub.server.close(resolve))));
  if (cert) await rm(cert.dir, { recursive: true, force: true });
});

/** One HTTPS request through HAProxy, trusting only the dev certificate. */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // HAProxy's own error pages are HTML.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HAProxy in front of the edges (deploy/haproxy.cfg)', () => {
  it('terminates TLS with the dev certificate and tells the edge who the client is', async () => {
    const res = await get(`${lb.edgesUrl}/socket.io/?x=1`, { 'X-Forwarded-For': '203.0.113.9' });
    expect(res.status).toBe(200);
    // The client's own X-Forwarded-For is replaced, never trusted.
    expect(res.body).toMatchObject({
      url: '/socket.io/?x=1',
      forwardedFor: '127.0.0.1',
      forwardedProto: 'https',
    });
  });

  it('serves the API on its own frontend', async () => {
    const res = await get(`${lb.apiUrl}/v1/sessions`);
    expect(res.body).toMatchObject({ server: 'a', url: '/v1/sessions', forwardedProto: 'https' });
  });

  it('keeps per-node metrics private', async () => {
    const before = stubs.map((s) => s.requests);
    expect((await get(`${lb.edgesUrl}/metrics`)).status).toBe(404);
    expect((await get(`${lb.apiUrl}/metrics`)).status).toBe(404);
    expect(stubs.map((s) => s.requests)).toEqual(before);
  });

  it('upgrades WebSockets through TLS and tunnels their bytes', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: Number(new URL(lb.edgesUrl).port),
      ca,
      servername: 'localhost',
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    socket.write(
      'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await waitFor(() => received.includes('\r\n\r\n'), { what: 'the 101 response' });
    expect(received).toMatch(/^HTTP\/1\.1 101 /);
    socket.write('bytes after the upgrade');
    await waitFor(() => received.endsWith('bytes after the upgrade'), {
      what: 'the echo through the tunnel',
    });
    socket.destroy();
  });

  it('takes a node out of rotation when its /readyz fails (a draining edge), and back when it passes', async () => {
    stubs[0]!.ready = false;
    await waitFor(async () => (await lb.serverStatus())['edges/edge1']?.startsWith('DOWN'), {
      timeoutMs: 5_000,
      what: 'edge1 DOWN',
    });
    const served = await Promise.all(Array.from({ length: 6 }, () => get(`${lb.edgesUrl}/x`)));
    expect(served.map((r) => r.body.server)).toEqual(Array(6).fill('b'));
    stubs[0]!.ready = true;
    await lb.waitForServersUp(5_000);
  });

  it('retries a refused connection on another node at once, and takes the dead node out', async () => {
    const [a, b] = stubs as [Stub, Stub];
    // b dies (its port refuses connections) while HAProxy still counts it UP.
    b.server.closeAllConnections();
    await new Promise((resolve) => b.server.close(resolve));
    expect((await lb.serverStatus())['edges/edge2']).toBe('UP');
    const served = await Promise.all(Array.from({ length: 6 }, () => get(`${lb.edgesUrl}/x`)));
    expect(served.map((r) => [r.status, r.body.server])).toEqual(Array(6).fill([200, 'a']));
    await waitFor(async () => (await lb.serverStatus())['edges/edge2']?.startsWith('DOWN'), {
      timeoutMs: 3_000,
      what: 'edge2 DOWN',
    });
    // Back on the same port, it returns to rotation once its checks pass again.
    stubs[1] = await startStub('b', b.port);
    await lb.waitForServersUp(5_000);
    expect(a.requests).toBeGreaterThan(0);
  });
});

describe('TLS only', () => {
  it('does not serve plain HTTP on the TLS port (LB_PLAIN_HTTP is for local development)', async () => {
    const port = Number(new URL(lb.edgesUrl).port);
    const status = await new Promise<number | string>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/x' }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', (error) => resolve(error.message));
      req.end();
    });
    expect(status).not.toBe(200);
  });
});
