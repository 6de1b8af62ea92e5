/**
 * The edge's plain HTTP routes beside Socket.IO: /healthz (the process is up), /readyz (it
 * should be sent connections), /metrics (Prometheus) and /admin/drain (admin-drain.ts). Apart from the server so what an
 * operator or a balancer can ask of an edge is one short file.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADMIN_DRAIN_PATH, answerDrainRequest } from './admin-drain.js';
import type { EdgeMetrics } from './metrics.js';

/** What the routes report; read when asked. */
export interface EdgeStatus {
  readonly metrics: EdgeMetrics;
  readonly ready: boolean;
  readonly draining: boolean;
  /** Both the session log's and the live channel's Redis connections are up. */
  readonly redisConnected: boolean;
  /** Session connections open. */
  readonly connections: number;
  /** Engine.IO connections open, joined to a session or not. */
  readonly engineConnections: number;
  /** Client addresses holding at least one WebSocket. */
  readonly clientAddresses: number;
  /** Lag and stall of each open session connection. */
  readonly connectionFigures: () => Iterable<{ readonly lag: number; readonly stalled: boolean }>;
  /** Authorizes a remote drain; undefined: the route is off. */
  readonly adminToken: string | undefined;
  /** Start the drain SIGTERM starts. */
  readonly requestDrain: () => void;
}

export function handleHttp(req: IncomingMessage, res: ServerResponse, status: EdgeStatus): void {
  if (res.headersSent || req.url?.startsWith('/socket.io')) return;
  const path = req.url?.split('?')[0];
  if (path === '/healthz') return json(res, 200, { status: 'ok' });
  if (path === '/metrics') return serveMetrics(req, res, status);
  if (path === ADMIN_DRAIN_PATH) {
    const answer = answerDrainRequest(req, status.adminToken, status.draining);
    json(res, answer.status, answer.body);
    if (answer.drain) status.requestDrain();
    return;
  }
  if (path === '/readyz') {
    const ready = status.ready;
    return json(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'not_ready',
      draining: status.draining,
      redis: status.redisConnected,
      connections: status.connections,
    });
  }
  json(res, 404, { code: 'not_found', message: `no route ${path ?? ''}` });
}

function serveMetrics(req: IncomingMessage, res: ServerResponse, status: EdgeStatus): void {
  const { metrics } = status;
  metrics.connections.set(status.connections);
  metrics.ready.set(status.ready ? 1 : 0);
  metrics.engineConnections.set(status.engineConnections);
  metrics.clientAddresses.set(status.clientAddresses);
  metrics.sampleConnections(status.connectionFigures());
  // Leak checks run the edge with --expose-gc and read the heap after a full collection.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc && new URL(req.url ?? '/', 'http://edge').searchParams.get('gc') === '1') gc();
  void metrics.registry.metrics().then((text) => {
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
