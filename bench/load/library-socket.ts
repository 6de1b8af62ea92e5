/**
 * The load clients' other kind: socket.io-client (WebSocket only, no reconnection), kept so the
 * bench can still show what the library itself costs next to the raw client (raw-socket.ts).
 */
import { io } from 'socket.io-client';
import type { ConnectRefusal, LoadSocket, LoadSocketHandlers } from './load-socket.js';

export function librarySocket(
  serverUrl: string,
  auth: Record<string, unknown>,
  handlers: LoadSocketHandlers,
): LoadSocket {
  const socket = io(serverUrl, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
  if (handlers.connect) socket.on('connect', handlers.connect);
  const { connectError } = handlers;
  socket.on('connect_error', (error: Error & { data?: ConnectRefusal['data'] }) => {
    socket.removeAllListeners();
    socket.disconnect();
    connectError?.({ message: error.message, ...(error.data ? { data: error.data } : {}) });
  });
  // One listener per event, as the load clients always registered them (no onAny on the hot path).
  for (const [event, handler] of Object.entries(handlers.events)) socket.on(event, handler);
  return {
    emit: (event, payload) => void socket.emit(event, payload),
    close: () => {
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
}
