/**
 * An edge node: an HTTP server with /healthz, /readyz and /metrics, and a Socket.IO server
 * (WebSocket transport only, so any edge can take any connection without sticky sessions) that
 * accepts authenticated session connections and serves them from the session log in Redis. It
 * keeps no session state of its own: killing it loses nothing. This file builds the pieces and
 * keeps the registry of open connections; each concept lives in its own module.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pLimit from 'p-limit';
import { Server } from 'socket.io';
import { createTokenVerifier } from '@holdfast/auth';
import { createLogger, type Logger } from '@holdfast/config';
import {
  ErrorCode,
  HoldfastError,
  isHoldfastError,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '@holdfast/protocol';
import type { InboundQueue } from '@holdfast/inbound-queue';
import {
  LiveSubscriptions,
  SessionLog,
  clusterSlotOf,
  type ProbedConnection,
  type RedisLink,
} from '@holdfast/session-log';
import type { EdgeConfig } from './config.js';
import { ConnectionCounter } from './connection-counter.js';
import type { ConnectionDeps, EdgeSocket } from './connection-types.js';
import { openEdgeRedisLinks } from './edge-redis-links.js';
import { closeEdge, drainEdge } from './edge-shutdown.js';
import { enforceHandshakeDeadline } from './handshake-deadline.js';
import {
  acceptHandshake,
  consumerOf,
  handOverCount,
  type HandshakeContext,
  type SocketData,
} from './handshake-acceptance.js';
import { handleHttp, type EdgeStatus } from './http-routes.js';
import { EdgeMetrics, countRedisError } from './metrics.js';
import { EdgeLeaseRenewer } from './lease-fencing.js';
import { RedisWatch } from './redis-watch.js';
import { ReplaceFanout } from './replace-fanout.js';
import { SessionConnection } from './session-connection.js';
import { SideLinkProbes } from './side-links.js';
import { TokenExpiryWheel } from './token-lifetime.js';
import { UpgradeGate } from './upgrade-gate.js';

/**
 * Catch-up reads in flight per edge. Every Redis call of an edge shares one connection, answered
 * in order: in a resume storm, a thousand connections each reading a window of a thousand
 * entries put a thousand large replies ahead of every handshake's lease claim, which then timed
 * out (seen in the resume-storm benchmark). A few reads in flight keep Redis and the edge busy
 * with replay while a handshake waits behind at most these.
 */
const REPLAY_READS_IN_FLIGHT = 8;

type EdgeIo = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, (holder: string) => void>,
  SocketData
>;

/** What an edge is built from (see EdgeServer.start). */
interface EdgeParts {
  readonly config: EdgeConfig;
  readonly http: HttpServer;
  readonly io: EdgeIo;
  readonly log: SessionLog;
  readonly live: LiveSubscriptions;
  readonly handshakes: Omit<HandshakeContext, 'isDraining' | 'replaceHolder'>;
  readonly adapterClients: readonly RedisLink[];
  readonly inbound: InboundQueue;
  readonly closeInbound: () => Promise<void>;
  readonly sideLinks: SideLinkProbes;
  readonly perAddress: ConnectionCounter;
  readonly logger: Logger;
  /** A remote drain was asked for (admin-drain.ts): main.ts makes it the SIGTERM path. */
  readonly onDrainRequested: (edge: EdgeServer) => void;
}

export class EdgeServer {
  private draining = false;
  private readonly connections = new Map<string, SessionConnection>();
  private readonly redisWatch: RedisWatch;
  private readonly replacements: ReplaceFanout;
  /** What every connection uses, shared: one object per edge rather than closures per connection. */
  private readonly connectionDeps: ConnectionDeps;
  readonly config: EdgeConfig;

  private constructor(private readonly parts: EdgeParts) {
    const { config, io, log, live, inbound, handshakes } = parts;
    this.config = config;
    this.connectionDeps = {
      log,
      live,
      window: config.window,
      limits: { maxPayloadBytes: log.options.maxPayloadBytes, maxFrameBytes: config.maxFrameBytes },
      leases: new EdgeLeaseRenewer(
        log,
        config.leaseMs,
        log.onCluster ? (sessionId) => clusterSlotOf(log.keys(sessionId).meta) : undefined,
      ),
      tokens: new TokenExpiryWheel(async (token, sessionId) => {
        const verified = await handshakes.verifier.verify(token, { sessionId });
        return { consumerId: consumerOf(verified.consumerId), expiresAt: verified.expiresAt };
      }),
      metrics: handshakes.metrics,
      perSession: handshakes.perSession,
      logger: parts.logger,
      submitInboxRun: (sessionId, generation) => inbound.submitInboxRun(sessionId, generation),
      eventsPerSecond: config.eventsPerSecond,
      eventsBurst: config.eventsBurst,
      readSlot: pLimit(REPLAY_READS_IN_FLIGHT),
      onClosed: (closed) => {
        if (this.connections.get(closed.id) === closed) this.connections.delete(closed.id);
      },
    };
    this.redisWatch = new RedisWatch(
      () => this.redisConnected,
      () => this.connections.values(),
    );
    this.replacements = new ReplaceFanout(io, this.connections);
    const handshakeContext: HandshakeContext = {
      ...handshakes,
      isDraining: () => this.draining,
      replaceHolder: (holder) => this.replacements.replaceHolder(holder),
    };
    io.use((socket, next) => void acceptHandshake(handshakeContext, socket, next));
    io.on('connection', (socket) => this.onConnection(socket));
    parts.http.on('request', (req, res) => handleHttp(req, res, this.status()));
  }

  static async start(
    config: EdgeConfig,
    logger: Logger = createLogger({ service: 'edge', level: config.logLevel }),
    onDrainRequested: (edge: EdgeServer) => void = (edge) => void edge.drain(),
  ): Promise<EdgeServer> {
    const verifier = createTokenVerifier({
      hs256Secrets: config.token.hs256Secrets,
      publicKeys: config.token.publicKeys,
      audience: config.token.audience,
      ...(config.token.issuer ? { issuer: config.token.issuer } : {}),
    });
    const metrics = new EdgeMetrics();
    const log = new SessionLog({
      redis: config.redisUrl,
      keyPrefix: config.keyPrefix,
      ...config.sharedLog,
      metricsRegistry: metrics.registry,
      inboundRatePerSession: config.inboundSessionRate,
      linkProbe: config.redisProbe,
    });
    const live = new LiveSubscriptions(config.redisUrl, config.redisProbe);
    const { adapter, adapterClients, probed, inbound, closeInbound } = openEdgeRedisLinks(config);

    const perAddress = new ConnectionCounter();
    const gate = new UpgradeGate(config, perAddress, metrics);
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
      allowRequest: gate.allowRequest,
      adapter,
    });
    const sideLinks = new SideLinkProbes(
      probed,
      [
        // BullMQ types its connection narrowly; at run time it is an ioredis client.
        inbound.firstConnection() as Promise<unknown> as Promise<ProbedConnection>,
      ],
      config.redisProbe,
    );
    const perSession = new ConnectionCounter();
    const handshakes = { config, log, verifier, perSession, metrics };
    gate.install(http);
    enforceHandshakeDeadline(http, io, config.handshakeTimeoutMs);
    const edge = new EdgeServer({
      config,
      http,
      io,
      log,
      live,
      handshakes,
      adapterClients,
      inbound,
      closeInbound,
      sideLinks,
      perAddress,
      logger,
      onDrainRequested,
    });

    await log.ready();
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen({ port: config.port, host: config.host, backlog: config.listenBacklog }, () => resolve());
    });
    return edge;
  }

  get port(): number {
    return (this.parts.http.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get ready(): boolean {
    return !this.draining && this.redisConnected;
  }

  /** Graceful shutdown: stop claiming readiness, refuse new connections, then edge-shutdown's drain. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    await drainEdge({
      connections: this.connections.values(),
      spreadMs: this.config.drainSpreadMs,
      engineClients: () => this.parts.io.engine.clientsCount,
      close: () => this.close(),
    });
  }

  /** Stop at once (tests, and the end of a drain). */
  async close(): Promise<void> {
    this.draining = true;
    this.redisWatch.stop();
    this.connectionDeps.leases.stop();
    this.connectionDeps.tokens.stop();
    const { io, log, live, closeInbound, adapterClients, sideLinks } = this.parts;
    sideLinks.stop();
    await closeEdge(
      io,
      () => [log.close(), live.close(), closeInbound(), ...adapterClients.map((c) => c.quit())],
      () => {
        for (const client of adapterClients) client.disconnect();
      },
    );
  }

  private get redisConnected(): boolean {
    return this.parts.log.connected && this.parts.live.connected;
  }

  private status(): EdgeStatus {
    return {
      metrics: this.parts.handshakes.metrics,
      ready: this.ready,
      draining: this.draining,
      redisConnected: this.redisConnected,
      connections: this.connections.size,
      engineConnections: this.parts.io.engine.clientsCount,
      clientAddresses: this.parts.perAddress.size,
      connectionFigures: () => [...this.connections.values()].map((connection) => connection.observed),
      adminToken: this.config.adminToken,
      requestDrain: () => this.parts.onDrainRequested(this),
    };
  }

  private onConnection(socket: EdgeSocket): void {
    const accepted = (socket.data as SocketData).accepted;
    if (!accepted) {
      socket.disconnect(true);
      return;
    }
    const connection = new SessionConnection(socket, this.connectionDeps, accepted);
    // Made: it gives the session's count back when it ends (if making it had failed, the
    // transport's close still would).
    handOverCount(socket);
    this.connections.set(socket.id, connection);
    connection.start().catch((error: unknown) => {
      const e = isHoldfastError(error)
        ? error
        : new HoldfastError(ErrorCode.RedisUnavailable, 'could not start');
      countRedisError(this.parts.handshakes.metrics, e);
      this.parts.logger.warn({ sessionId: connection.sessionId, code: e.code }, 'connection failed to start');
      connection.end(e.code, e.message);
    });
  }
}
