/**
 * What a load client needs from a Socket.IO connection, whichever client library carries it:
 * open with an `auth` payload, learn whether the namespace accepted it, receive named events,
 * emit named events, close. The two kinds (load-client-kind) implement it, so every system is
 * driven by the same client code and only the framing underneath differs.
 */

/** Which client carries the load: the raw Engine.IO/Socket.IO framing over `ws`, or socket.io-client. */
export type LoadClientKind = 'raw' | 'socket.io-client';

export const LOAD_CLIENT_KINDS: readonly LoadClientKind[] = ['raw', 'socket.io-client'];

/** The load clients' default: the lighter client, so the clients take less of the shared CPU. */
export const DEFAULT_LOAD_CLIENT: LoadClientKind = 'raw';

/** A refused namespace connect (`44{message, data}`), or a transport that never opened. */
export interface ConnectRefusal {
  readonly message: string;
  readonly data?: { retryAfterMs?: number } & Record<string, unknown>;
}

export interface LoadSocketHandlers {
  /** The namespace accepted the connect (`40{sid}`). */
  readonly connect?: () => void;
  /** Refused or failed before `connect`; the socket is closed. */
  readonly connectError?: (refusal: ConnectRefusal) => void;
  /** Server events by name: only the first argument is passed (recovery's offset is dropped). */
  readonly events: Readonly<Record<string, (payload: unknown) => void>>;
}

export interface LoadSocket {
  emit(event: string, payload: unknown): void;
  /** Leave cleanly (`41`, then the WebSocket close); no handler is called afterwards. */
  close(): void;
}

export function isLoadClientKind(value: string): value is LoadClientKind {
  return (LOAD_CLIENT_KINDS as readonly string[]).includes(value);
}
