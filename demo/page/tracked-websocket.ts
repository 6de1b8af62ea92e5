/**
 * Lets the "drop connection" button close the SDK's WebSocket, as a network drop would end it.
 *
 * The SDK never hands out its socket, and socket.io-client takes `globalThis.WebSocket` when its
 * module is evaluated, so this module replaces the constructor with one that remembers every
 * socket it opens. It must be imported before `@holdfast/client` (ES modules run in import order).
 */
const open = new Set<WebSocket>();
const NativeWebSocket = globalThis.WebSocket;

class TrackedWebSocket extends NativeWebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    open.add(this);
    this.addEventListener('close', () => open.delete(this));
  }
}

globalThis.WebSocket = TrackedWebSocket;

/** Closes every open WebSocket of the page; returns how many there were. */
export function dropConnections(): number {
  const count = open.size;
  for (const socket of open) socket.close(4000, 'dropped by the demo page');
  return count;
}
