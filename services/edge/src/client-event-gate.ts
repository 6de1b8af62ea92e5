/**
 * The gate every client event passes after the handshake: unknown event names are refused,
 * the per-connection rate is enforced, and acks are taken at once (see below). One middleware
 * per connection, kept apart so what a client may emit is visible in one place.
 */
import { ErrorCode, isHoldfastError, validateEventName } from '@holdfast/protocol';
import type { EdgeSocket } from './connection-types.js';
import type { EdgeMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';

export function gateClientEvents(
  socket: EdgeSocket,
  limiter: RateLimiter,
  metrics: EdgeMetrics,
  onAck: (payload: unknown) => void,
): void {
  socket.use(([event, payload], next) => {
    try {
      validateEventName(event);
    } catch (error) {
      if (!isHoldfastError(error)) throw error;
      socket.emit('fault', { code: error.code, message: error.message });
      return;
    }
    const retryAfterMs = limiter.take();
    if (retryAfterMs > 0) {
      metrics.rateLimited.inc();
      socket.emit('fault', { code: ErrorCode.RateLimited, message: 'too many events', retryAfterMs });
      return;
    }
    // Acks are taken here, as the packet is read: Socket.IO hands events to listeners a tick
    // later and drops them if the disconnect that followed was read meanwhile, and the last
    // ack before a client closes matters as much as any.
    if (event === 'ack') {
      onAck(payload);
      return;
    }
    next();
  });
}
