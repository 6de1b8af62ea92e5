import type { IncomingMessage } from 'node:http';

/**
 * Socket.IO's `cors` option does not stop a WebSocket upgrade from a foreign page, so the
 * Origin is checked here, in engine.io's `allowRequest`, before any upgrade.
 */
export function isOriginAllowed(
  req: IncomingMessage,
  allowedOrigins: readonly string[],
  allowMissingOrigin: boolean,
): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === '') return allowMissingOrigin;
  if (allowedOrigins.includes('*')) return true;
  return allowedOrigins.includes(origin);
}
