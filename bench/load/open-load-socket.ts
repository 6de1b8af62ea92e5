/** One connection of the chosen load-client kind (load-socket.ts says what the kinds are). */
import { librarySocket } from './library-socket.js';
import type { LoadClientKind, LoadSocket, LoadSocketHandlers } from './load-socket.js';
import { RawSocket } from './raw-socket.js';

export function openLoadSocket(
  kind: LoadClientKind,
  serverUrl: string,
  auth: Record<string, unknown>,
  handlers: LoadSocketHandlers,
): LoadSocket {
  return kind === 'raw' ? new RawSocket(serverUrl, auth, handlers) : librarySocket(serverUrl, auth, handlers);
}
