import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { Server, type ExtendedError } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createTokenVerifier, type TokenVerifier } from '@holdfast/auth';
import {
  ErrorCode,
  HoldfastError,
  isHoldfastError,
  type ClientToServerEvents,
  type ConnectErrorData,
  type ServerToClientEvents,
} from '@holdfast/protocol';
import { InboundQueue } from '@holdfast/inbound-queue';
import { LiveSubscriptions, SessionLog, type ProbedConnection } from '@holdfast/session-log';
import type { EdgeConfig } from './config.js';
import { consumerOf, parseHandshake } from './handshake.js';
import { enforceHandshakeDeadline } from './handshake-deadline.js';
import { EdgeMetrics } from './metrics.js';
import { clientAddress, parseTrustedProxies } from './client-address.js';
import { ConnectionCounter } from './connection-counter.js';
import { isOriginAllowed } from './origin-check.js';
import { SideLinkProbes } from './side-links.js';
import {
  SessionConnection,
  type AcceptedHandshake,
  type ConnectionDeps,
  type EdgeSocket,
} from './session-connection.js';

/** Server-to-server event (over the Redis adapter): close the connection with this socket id. */
const REPLACE_EVENT = 'holdfast:replace';
/** How long Redis may be unreachable before this edge tells its clients to move. */
const REDIS_LOSS_GRACE_MS = 3000;
/** Hint sent with `drain`: the client should wait this long before reconnecting. */
const DRAIN_RETRY_AFTER_MS = 100;
/** How long a drain waits for clients to close their transports after the disconnect packet. */
const TRANSPORT_DRAIN_LIMIT_MS = 3000;
/** Hint sent with `too_many_connections`: a connection slot is not freed sooner than this, typically. */
const CONNECTION_LIMIT_RETRY_AFTER_MS = 1000;
/**
 * Catch-up reads in flight per edge. Every Redis call of an edge shares one connection, answered
 * in order: in a resume storm, a thousand connections each reading a window of a thousand
 * entries put a thousand large replies ahead of every handshake's lease claim, which then timed
 * out (seen in the resume-storm benchmark). A few reads in flight keep Redis and the edge busy
 * with replay while a handshake waits behind at most these.
 */
const REPLAY_READS_IN_FLIGHT = 8;
/** How long closing each Redis connection may take at shutdown. */
const CLOSE_LIMIT_MS = 2000;

interface SocketData {
  accepted?: AcceptedHandshake;
}

type EdgeIo = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, (holder: string) => void>,
  SocketData
>;

/**
 * An edge node: an HTTP server with /healthz and /readyz, and a Socket.IO server (WebSocket
 * transport only, so any edge can take any connection without sticky sessions) that accepts
 * authenticated session connections and serves them from the session log in Redis. It keeps no
 * session state of its own: killing it loses nothing.
 */
export class EdgeServer {
  private draining = false;
  private redisLostSince: number | undefined;
  private readonly connections = new Map<string, SessionConnection>();
  private readonly healthTimer: NodeJS.Timeout;
  private readonly metrics = new EdgeMetrics();
  /** What every connection uses, shared: one object per edge rather than closures per connection. */
  private readonly connectionDeps: ConnectionDeps;
  /** Open WebSockets per client address, and session connections per session. */
  readonly perAddress = new ConnectionCounter();
  readonly perSession = new ConnectionCounter();

  private constructor(
    readonly config: EdgeConfig,
    private readonly http: HttpServer,
    private readonly io: EdgeIo,
    private readonly log: SessionLog,
    private readonly live: LiveSubscriptions,
    private readonly verifier: TokenVerifier,
    private readonly adapterClients: Redis[],
    private readonly inbound: InboundQueue,
    private readonly sideLinks: SideLinkProbes,
  ) {
    this.connectionDeps = {
      log,
      live,
      window: config.window,
      limits: { maxPayloadBytes: log.options.maxPayloadBytes, maxFrameBytes: config.maxFrameBytes },
      leaseMs: config.leaseMs,
      verifyToken: async (token, sessionId) => {
        const verified = await verifier.verify(token, { sessionId });
        return { consumerId: consumerOf(verified.consumerId), expiresAt: verified.expiresAt };
      },
      metrics: this.metrics,
      submitDrain: (sessionId, generation) => inbound.submitDrain(sessionId, generation),
      eventsPerSecond: config.eventsPerSecond,
      eventsBurst: config.eventsBurst,
      readSlot: pLimit(REPLAY_READS_IN_FLIGHT),
      onClosed: (closed) => {
        if (this.connections.get(closed.id) === closed) this.connections.delete(closed.id);
      },
    };
    this.healthTimer = setInterval(() => this.watchRedis(), 500);
    this.healthTimer.unref();
  }

  static async start(config: EdgeConfig): Promise<EdgeServer> {
    const verifier = createTokenVerifier({
      hs256Secrets: config.token.hs256Secrets,
      publicKeys: config.token.publicKeys,
      audience: config.token.audience,
      ...(config.token.issuer ? { issuer: config.token.issuer } : {}),
    });
    const log = new SessionLog({
      redis: config.redisUrl,
      keyPrefix: config.keyPrefix,
      inboundRatePerSession: config.inboundSessionRate,
      linkProbe: config.redisProbe,
    });
    const inbound = new InboundQueue({ url: config.redisUrl }, config.keyPrefix);
    const live = new LiveSubscriptions(config.redisUrl, config.redisProbe);
    const pub = new Redis(config.redisUrl, { connectionName: 'holdfast-edge-adapter-pub' });
    const sub = pub.duplicate({ connectionName: 'holdfast-edge-adapter-sub' });
    for (const client of [pub, sub]) client.on('error', () => undefined);

    const trustedProxies = parseTrustedProxies(config.trustedProxies);
    /** Upgrades refused before engine.io saw them: engine.io must not take them either. */
    const refusedUpgrades = new WeakSet<IncomingMessage>();
    // Timed-out requests are found by a periodic sweep: often enough that the deadline holds.
    const http = createServer({
      connectionsCheckingInterval: Math.min(1000, Math.ceil(config.handshakeTimeoutMs / 4)),
    });
    const io: EdgeIo = new Server(http, {
      transports: ['websocket'],
      pingInterval: config.pingIntervalMs,
      pingTimeout: config.pingTimeoutMs,
      maxHttpBufferSize: config.maxFrameBytes,
      // A backstop: enforceHandshakeDeadline closes such connections first, with a code.
      connectTimeout: config.handshakeTimeoutMs * 2,
      serveClient: false,
      allowRequest: (req, callback) => {
        if (refusedUpgrades.has(req)) callback(ErrorCode.TooManyConnections, false);
        else if (isOriginAllowed(req, config.allowedOrigins, config.allowMissingOrigin)) callback(null, true);
        else callback(ErrorCode.OriginNotAllowed, false);
      },
      adapter: createAdapter(pub, sub, { key: `${config.keyPrefix}:socket.io` }),
    });
    const sideLinks = new SideLinkProbes(
      [pub, sub],
      [
        // BullMQ types its connection narrowly; at run time it is an ioredis client.
        inbound.connection() as Promise<unknown> as Promise<ProbedConnection>,
      ],
      config.redisProbe,
    );
    const edge = new EdgeServer(config, http, io, log, live, verifier, [pub, sub], inbound, sideLinks);
    http.on('request', (req, res) => edge.handleHttp(req, res));
    // engine.io answers a refused WebSocket upgrade with 400 whatever the reason; a foreign
    // Origin deserves 403 with a code, before engine.io sees the request at all.
    http.prependListener('upgrade', (req: IncomingMessage, socket: Duplex) => {
      if (!isOriginAllowed(req, config.allowedOrigins, config.allowMissingOrigin)) {
        refuseUpgrade(socket, '403 Forbidden', {
          code: ErrorCode.OriginNotAllowed,
          message: 'this Origin may not connect',
        });
        return;
      }
      // A client that reset during its upgrade is gone already: its 'close' has been emitted,
      // so counting it would never be undone.
      if (socket.destroyed) return;
      // Counted from the upgrade until the socket closes, whether or not it ever joins a session.
      const address = clientAddress(req, trustedProxies);
      if (!edge.perAddress.tryAcquire(address, config.maxConnectionsPerIp)) {
        refusedUpgrades.add(req);
        edge.metrics.handshakeRejections.inc({ code: ErrorCode.TooManyConnections });
        refuseUpgrade(socket, '429 Too Many Requests', {
          code: ErrorCode.TooManyConnections,
          message: `this address holds ${config.maxConnectionsPerIp} connections to this edge already`,
          retryAfterMs: CONNECTION_LIMIT_RETRY_AFTER_MS,
        });
        return;
      }
      socket.once('close', () => edge.perAddress.release(address));
    });
    enforceHandshakeDeadline(http, io, config.handshakeTimeoutMs);
    io.use((socket, next) => void edge.acceptHandshake(socket, next));
    io.on('connection', (socket) => edge.onConnection(socket));
    io.on(REPLACE_EVENT, (holder: string) => edge.connections.get(holder)?.replace());

    await log.ready();
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => resolve());
    });
    return edge;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get ready(): boolean {
    return !this.draining && this.log.connected && this.live.connected;
  }

  /**
   * Graceful shutdown: stop claiming readiness, refuse new connections, tell every client to
   * move (spread over the drain window so they do not all reconnect at once), store their
   * acks, close each with a proper close frame, then release Redis.
   */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const spread = this.config.drainSpreadMs;
    await Promise.all(
      [...this.connections.values()].map(async (connection) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * spread));
        await connection.drain(DRAIN_RETRY_AFTER_MS);
      }),
    );
    // io.close() discards what engine.io has not written yet, which could be a disconnect
    // packet: let clients close their transports first (each is closed for them after a grace).
    const deadline = Date.now() + TRANSPORT_DRAIN_LIMIT_MS;
    while (this.io.engine.clientsCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.close();
  }

  /** Stop at once (tests, and the end of a drain). */
  async close(): Promise<void> {
    this.draining = true;
    clearInterval(this.healthTimer);
    this.sideLinks.stop();
    await new Promise<void>((resolve) => {
      void this.io.close(() => resolve());
    });
    // Each connection gets a bounded, polite goodbye: when Redis is already gone a QUIT would
    // wait for a reconnection that never comes and hold the process open.
    await Promise.all(
      [
        this.log.close(),
        this.live.close(),
        this.inbound.close(),
        ...this.adapterClients.map((c) => c.quit()),
      ].map((closing) => settleWithin(closing, CLOSE_LIMIT_MS)),
    );
    for (const client of this.adapterClients) client.disconnect();
  }

  private handleHttp(req: IncomingMessage, res: ServerResponse): void {
    if (res.headersSent || req.url?.startsWith('/socket.io')) return;
    const path = req.url?.split('?')[0];
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/metrics') {
      this.metrics.connections.set(this.connections.size);
      this.metrics.ready.set(this.ready ? 1 : 0);
      this.metrics.engineConnections.set(this.io.engine.clientsCount);
      this.metrics.clientAddresses.set(this.perAddress.size);
      // Leak checks run the edge with --expose-gc and read the heap after a full collection.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc && new URL(req.url ?? '/', 'http://edge').searchParams.get('gc') === '1') gc();
      void this.metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    if (path === '/readyz') {
      const ready = this.ready;
      return json(res, ready ? 200 : 503, {
        status: ready ? 'ready' : 'not_ready',
        draining: this.draining,
        redis: this.log.connected && this.live.connected,
        connections: this.connections.size,
      });
    }
    json(res, 404, { code: 'not_found', message: `no route ${path ?? ''}` });
  }

  private async acceptHandshake(socket: EdgeSocket, next: (err?: ExtendedError) => void): Promise<void> {
    let counted: string | undefined;
    try {
      if (this.draining) {
        throw new HoldfastError(
          ErrorCode.ServerDraining,
          'this edge is shutting down; connect to another one',
          {
            details: { retryAfterMs: DRAIN_RETRY_AFTER_MS },
          },
        );
      }
      const handshake = parseHandshake(socket.handshake.auth);
      const verified = await this.verifier.verify(handshake.token, { sessionId: handshake.sessionId });
      const consumerId = consumerOf(verified.consumerId);
      // Only verified handshakes count, so nobody without a token can lock a session out.
      if (!this.perSession.tryAcquire(handshake.sessionId, this.config.maxConnectionsPerSession)) {
        throw new HoldfastError(
          ErrorCode.TooManyConnections,
          `session ${handshake.sessionId} holds ${this.config.maxConnectionsPerSession} connections to this edge already`,
          { details: { retryAfterMs: CONNECTION_LIMIT_RETRY_AFTER_MS } },
        );
      }
      counted = handshake.sessionId;
      const lease = await this.log.claimLease(
        handshake.sessionId,
        consumerId,
        socket.id,
        this.config.leaseMs,
      );
      if (lease.previousHolder) this.replaceHolder(lease.previousHolder);
      (socket.data as SocketData).accepted = {
        sessionId: handshake.sessionId,
        consumerId,
        tokenExpiresAt: verified.expiresAt,
        position: handshake.position,
        leaseGeneration: lease.generation,
        protocolVersion: handshake.version,
      };
      // Released once, when the session connection ends or its transport closes, whichever is
      // first (the transport may already be gone: the client left during the handshake).
      const sessionId = handshake.sessionId;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.perSession.release(sessionId);
      };
      socket.once('disconnect', release);
      socket.conn.once('close', release);
      if (socket.conn.readyState === 'closed') release();
      counted = undefined;
      next();
    } catch (error) {
      if (counted !== undefined) this.perSession.release(counted);
      const rejection = connectError(error);
      this.metrics.handshakeRejections.inc({ code: (rejection.data as ConnectErrorData).code });
      next(rejection);
    }
  }

  private onConnection(socket: EdgeSocket): void {
    const accepted = (socket.data as SocketData).accepted;
    if (!accepted) {
      socket.disconnect(true);
      return;
    }
    const connection = new SessionConnection(socket, this.connectionDeps, accepted);
    this.connections.set(socket.id, connection);
    connection.start().catch((error: unknown) => {
      const e = isHoldfastError(error)
        ? error
        : new HoldfastError(ErrorCode.RedisUnavailable, 'could not start');
      connection.end(e.code, e.message);
    });
  }

  /** Close an older connection of a consumer, wherever it is. */
  private replaceHolder(holder: string): void {
    const local = this.connections.get(holder);
    if (local) local.replace();
    else this.io.serverSideEmit(REPLACE_EVENT, holder);
  }

  /** Without Redis this edge would serve a stale view: stop claiming readiness and move clients. */
  private watchRedis(): void {
    if (this.log.connected && this.live.connected) {
      this.redisLostSince = undefined;
      return;
    }
    const now = Date.now();
    this.redisLostSince ??= now;
    if (now - this.redisLostSince < REDIS_LOSS_GRACE_MS) return;
    this.redisLostSince = now; // tell the clients connected since then on the next round
    for (const connection of this.connections.values()) void connection.drain(DRAIN_RETRY_AFTER_MS * 10);
  }
}

/** Wait for `promise` at most `ms`; its outcome does not matter, only that shutdown moves on. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

/** Answer a WebSocket upgrade with an HTTP error and a JSON body `{ code, message, … }`, then close. */
function refuseUpgrade(socket: Duplex, status: string, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  const retryAfterMs = body['retryAfterMs'];
  const retryAfter =
    typeof retryAfterMs === 'number' ? `Retry-After: ${Math.ceil(retryAfterMs / 1000)}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${retryAfter}Connection: close\r\n\r\n${text}`,
  );
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function connectError(error: unknown): ExtendedError {
  const e = isHoldfastError(error)
    ? error
    : new HoldfastError(ErrorCode.RedisUnavailable, 'the edge could not accept the connection; retry');
  const retryAfterMs = e.details?.retryAfterMs;
  const data: ConnectErrorData = {
    code: e.code,
    message: e.message,
    ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
  };
  const err = new Error(e.code) as ExtendedError;
  err.data = data;
  return err;
}
