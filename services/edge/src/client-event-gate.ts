/**
 * The gate every client event passes after the handshake: unknown event names are refused,
 * the per-connection rate is enforced, and acks are taken at once (see below); then where each
 * event goes. Kept apart so what a client may emit is visible in one place.
 *
 * An idle connection is mostly what it keeps on the heap, so the disconnect listener is shared
 * by every connection (`this` is the socket, whose data names its connection), the middleware
 * (which Socket.IO calls without its socket) is the one closure per connection, and `token` and
 * `send` go from it to the connection with no listener of their own: each event name listened
 * to grows the socket's listener table, by about 200 bytes per connection for these two.
 */
import { ErrorCode, isHoldfastError, validateEventName } from '@holdfast/protocol';
import type { EdgeSocket } from './connection-types.js';
import type { EdgeMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';

/** The connection a socket's events go to. */
export interface ClientEventTarget {
  /** Its rate limiter, made on the first event (most idle connections never send one). */
  readonly limiter: RateLimiter;
  onAckEvent(payload: unknown): void;
  onTokenEvent(payload: unknown, reply: unknown): void;
  onSendEvent(payload: unknown, reply: unknown): void;
  /** The socket disconnected (the transport closed, or the edge closed it). */
  onDisconnect(): void;
}

/** What a socket carries for its listeners: its connection, once there is one. */
interface TargetData {
  target?: ClientEventTarget;
}

function targetOf(socket: EdgeSocket): ClientEventTarget | undefined {
  return (socket.data as TargetData).target;
}

function onDisconnect(this: EdgeSocket): void {
  targetOf(this)?.onDisconnect();
}

/**
 * A `token` or `send` that passed the gate, handed over as Socket.IO hands an event to its
 * listeners: a tick later, and not if the disconnect that followed was read meanwhile.
 */
function handOver(socket: EdgeSocket, event: 'token' | 'send', payload: unknown, reply: unknown): void {
  if (!socket.connected) return;
  const target = targetOf(socket);
  if (event === 'token') target?.onTokenEvent(payload, reply);
  else target?.onSendEvent(payload, reply);
}

/** From now on `target` hears of the socket's disconnect. */
export function attachConnection(socket: EdgeSocket, target: ClientEventTarget): void {
  (socket.data as TargetData).target = target;
  socket.on('disconnect', onDisconnect);
}

/** From now on the client's events reach `target` (once it is ready to serve them). */
export function gateClientEvents(socket: EdgeSocket, target: ClientEventTarget, metrics: EdgeMetrics): void {
  socket.use(([event, payload, reply], next) => {
    try {
      validateEventName(event);
    } catch (error) {
      if (!isHoldfastError(error)) throw error;
      socket.emit('fault', { code: error.code, message: error.message });
      return;
    }
    const retryAfterMs = target.limiter.take();
    if (retryAfterMs > 0) {
      metrics.rateLimited.inc();
      socket.emit('fault', { code: ErrorCode.RateLimited, message: 'too many events', retryAfterMs });
      return;
    }
    // Acks are taken here, as the packet is read: Socket.IO hands events to listeners a tick
    // later and drops them if the disconnect that followed was read meanwhile, and the last
    // ack before a client closes matters as much as any.
    if (event === 'ack') {
      target.onAckEvent(payload);
      return;
    }
    if (event === 'token' || event === 'send') {
      process.nextTick(handOver, socket, event, payload, reply);
      return;
    }
    next();
  });
}
