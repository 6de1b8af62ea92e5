/**
 * The gate in front of engine.io's WebSocket upgrade: a foreign Origin is refused with 403 and
 * an address over its connection limit with 429, each with a JSON `{ code, message }`, before
 * engine.io sees the request (engine.io answers any refusal with a bare 400). Socket.IO's own
 * `allowRequest` then agrees with what the gate decided.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@holdfast/protocol';
import { clientAddress, parseTrustedProxies } from './client-address.js';
import type { EdgeConfig } from './config.js';
import type { ConnectionCounter } from './connection-counter.js';
import type { EdgeMetrics } from './metrics.js';
import { isOriginAllowed } from './origin-check.js';

/** Hint sent with `too_many_connections`: a connection slot is not freed sooner than this, typically. */
export const CONNECTION_LIMIT_RETRY_AFTER_MS = 1000;

type GateConfig = Pick<
  EdgeConfig,
  'allowedOrigins' | 'allowMissingOrigin' | 'trustedProxies' | 'maxConnectionsPerIp'
>;

export class UpgradeGate {
  /** Upgrades refused before engine.io saw them: engine.io must not take them either. */
  private readonly refused = new WeakSet<IncomingMessage>();
  private readonly trustedProxies: ReturnType<typeof parseTrustedProxies>;
  /** Each counted socket's address, given back when it closes. */
  private readonly counted = new WeakMap<Duplex, string>();
  /**
   * One 'close' listener for every socket (`this` is the socket), rather than a closure and a
   * once-wrapper per socket: an open connection keeps a map entry, not ~250 bytes of functions.
   */
  private readonly onSocketClose: (this: Duplex) => void;

  constructor(
    private readonly config: GateConfig,
    /** Open WebSockets per client address. */
    private readonly perAddress: ConnectionCounter,
    private readonly metrics: EdgeMetrics,
  ) {
    this.trustedProxies = parseTrustedProxies(config.trustedProxies);
    const { counted } = this;
    this.onSocketClose = function (this: Duplex): void {
      const address = counted.get(this);
      if (address === undefined) return;
      counted.delete(this);
      perAddress.release(address);
    };
  }

  /** Socket.IO's `allowRequest`: what the gate refused stays refused; the Origin is checked again. */
  readonly allowRequest = (
    req: IncomingMessage,
    callback: (err: string | null | undefined, success: boolean) => void,
  ): void => {
    if (this.refused.has(req)) callback(ErrorCode.TooManyConnections, false);
    else if (isOriginAllowed(req, this.config.allowedOrigins, this.config.allowMissingOrigin))
      callback(null, true);
    else callback(ErrorCode.OriginNotAllowed, false);
  };

  /** Listen for upgrades ahead of engine.io. */
  install(http: HttpServer): void {
    http.prependListener('upgrade', (req: IncomingMessage, socket: Duplex) => this.onUpgrade(req, socket));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex): void {
    const { config } = this;
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
    const address = clientAddress(req, this.trustedProxies);
    if (!this.perAddress.tryAcquire(address, config.maxConnectionsPerIp)) {
      this.refused.add(req);
      this.metrics.handshakeRejections.inc({ code: ErrorCode.TooManyConnections });
      refuseUpgrade(socket, '429 Too Many Requests', {
        code: ErrorCode.TooManyConnections,
        message: `this address holds ${config.maxConnectionsPerIp} connections to this edge already`,
        retryAfterMs: CONNECTION_LIMIT_RETRY_AFTER_MS,
      });
      return;
    }
    this.counted.set(socket, address);
    socket.on('close', this.onSocketClose);
  }
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
