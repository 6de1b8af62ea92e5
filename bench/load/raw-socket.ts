/**
 * A minimal Socket.IO v5 client over Engine.IO v4, straight on `ws`, for the load clients:
 * socket.io-client costs 9–22 µs of CPU per message on the two cores the servers under test
 * also use, which distorts every comparison. This speaks only what the bench needs:
 *
 *   WebSocket transport only      GET /socket.io/?EIO=4&transport=websocket
 *   Engine.IO (one packet a frame) 0{open JSON} · 2 ping → 3 pong · 1 close · 4<Socket.IO> · 6 noop
 *   Socket.IO, namespace "/"      40{auth} → 40{sid} or 44{message,data} · 42[name,…] · 41
 *
 * Text frames only: a binary frame or a binary event (45/46) means the server sent an
 * attachment this client cannot rebuild, so it fails loudly rather than miscount messages.
 * Framing follows engine.io-parser 5 (decodePacket) and socket.io-parser 4 (encodeAsString,
 * decodeString). No reconnection, no acks, no heartbeat watchdog: the bench decides all that.
 */
import { WebSocket, type RawData } from 'ws';
import type { ConnectRefusal, LoadSocket, LoadSocketHandlers } from './load-socket.js';

/** Engine.IO packet types (first character of every frame). */
const EIO_OPEN = '0';
const EIO_CLOSE = '1';
const EIO_PING = '2';
const EIO_PONG = '3';
const EIO_MESSAGE = '4';
const EIO_NOOP = '6';

/** Socket.IO packet types (first character after the Engine.IO `4`). */
const SIO_CONNECT = '0';
const SIO_DISCONNECT = '1';
const SIO_EVENT = '2';
const SIO_CONNECT_ERROR = '4';
const SIO_BINARY_EVENT = '5';
const SIO_BINARY_ACK = '6';

/** The Engine.IO WebSocket endpoint for a server's `http://host:port` URL. */
export function engineIoUrl(serverUrl: string): string {
  const url = new URL('/socket.io/', serverUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '?EIO=4&transport=websocket';
  return url.toString();
}

/** A frame this client cannot handle: thrown so the load-client process dies with the reason. */
export class UnsupportedFrameError extends Error {
  constructor(what: string, frame: string) {
    super(`raw load client: ${what}: ${JSON.stringify(frame.slice(0, 80))}`);
    this.name = 'UnsupportedFrameError';
  }
}

export interface RawSocketOptions {
  /**
   * Called with a frame this client cannot handle (binary attachment, unknown type). The
   * socket is closed first. Default: throw, which ends the load-client process loudly.
   */
  readonly onUnsupported?: (error: UnsupportedFrameError) => void;
}

export class RawSocket implements LoadSocket {
  private readonly ws: WebSocket;
  /** The namespace answered `40{sid}`: events may flow. */
  private connected = false;
  /** close() was called or the socket failed: no handler runs any more. */
  private done = false;

  constructor(
    serverUrl: string,
    private readonly auth: Record<string, unknown>,
    private readonly handlers: LoadSocketHandlers,
    private readonly options: RawSocketOptions = {},
  ) {
    // socket.io's server turns permessage-deflate off by default; not offering it saves a round of negotiation.
    this.ws = new WebSocket(engineIoUrl(serverUrl), { perMessageDeflate: false });
    this.ws.on('message', (data: RawData, isBinary: boolean) => this.onFrame(data, isBinary));
    // As socket.io-client does: a transport failure before the namespace answered is a
    // connect_error (message "websocket error", no data); after it, just the end.
    this.ws.on('error', () => this.fail({ message: 'websocket error' }));
    this.ws.on('close', () => this.fail({ message: 'websocket closed' }));
  }

  emit(event: string, payload: unknown): void {
    if (!this.connected || this.done) return;
    this.ws.send(`${EIO_MESSAGE}${SIO_EVENT}${JSON.stringify([event, payload])}`);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.ws.readyState === WebSocket.OPEN) {
      if (this.connected) this.ws.send(`${EIO_MESSAGE}${SIO_DISCONNECT}`);
      this.ws.close();
    } else {
      // Still connecting: no handshake to finish politely.
      this.ws.terminate();
    }
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.done) return;
    if (isBinary) return this.unsupported('binary frame (attachments are not supported)', '<binary>');
    const frame = data.toString();
    switch (frame[0]) {
      case EIO_MESSAGE:
        return this.onPacket(frame);
      case EIO_PING:
        this.ws.send(EIO_PONG);
        return;
      case EIO_OPEN:
        // The open packet's sid, pingInterval and maxPayload do not change what we send.
        this.ws.send(`${EIO_MESSAGE}${SIO_CONNECT}${JSON.stringify(this.auth)}`);
        return;
      case EIO_CLOSE:
        return this.fail({ message: 'server closed the engine' });
      case EIO_NOOP:
        return;
      default:
        return this.unsupported('unknown Engine.IO packet', frame);
    }
  }

  /** One Socket.IO packet, `frame` still carrying its Engine.IO `4`. */
  private onPacket(frame: string): void {
    const type = frame[1];
    // Namespace "/" is written as nothing; anything else (`/name,`) or an ack id (digits)
    // sits between the type and the JSON, and this client asks for neither.
    const body = frame.slice(2);
    if (type === SIO_EVENT) {
      if (body[0] !== '[') return this.unsupported('event with a namespace or an ack id', frame);
      const args = JSON.parse(body) as unknown[];
      const handler = this.handlers.events[args[0] as string];
      if (handler) handler(args[1]);
      return;
    }
    switch (type) {
      case SIO_CONNECT:
        this.connected = true;
        this.handlers.connect?.();
        return;
      case SIO_CONNECT_ERROR: {
        const refusal = JSON.parse(body) as ConnectRefusal | string;
        return this.fail(typeof refusal === 'string' ? { message: refusal } : refusal);
      }
      case SIO_DISCONNECT:
        return this.fail({ message: 'server disconnected the namespace' });
      case SIO_BINARY_EVENT:
      case SIO_BINARY_ACK:
        return this.unsupported('binary attachment', frame);
      default:
        return this.unsupported('unsupported Socket.IO packet', frame);
    }
  }

  /** The end, however it came: a refusal before `connect` is reported, anything later is silent. */
  private fail(refusal: ConnectRefusal): void {
    if (this.done) return;
    this.done = true;
    this.ws.terminate();
    if (!this.connected) this.handlers.connectError?.(refusal);
  }

  private unsupported(what: string, frame: string): void {
    this.done = true;
    this.ws.terminate();
    const error = new UnsupportedFrameError(what, frame);
    if (this.options.onUnsupported) this.options.onUnsupported(error);
    else throw error;
  }
}
