import type { Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server } from 'socket.io';
import { ErrorCode, type ConnectErrorData } from '@holdfast/protocol';

/** Engine.IO `message` packet carrying a Socket.IO CONNECT_ERROR for the default namespace. */
const CONNECT_ERROR_PREFIX = '4';

interface EngineConnection {
  send(data: string): void;
  close(): void;
  readonly transport: EngineTransport;
}

/** The connection's transport: closes when its connection does (see the deadline below). */
interface EngineTransport {
  once(event: 'close', listener: () => void): void;
  off(event: 'close', listener: () => void): void;
}

/**
 * Bounds how long a connection may take to become a session connection, so a client that
 * trickles its HTTP headers (slowloris) or opens an Engine.IO connection and never joins the
 * namespace holds a socket for `timeoutMs` at most, and is told why:
 *
 * - HTTP: Node's `headersTimeout` / `requestTimeout` close a request whose headers have not all
 *   arrived in time; the edge answers it with 408 and `handshake_timeout` in a JSON body.
 * - Engine.IO: a connection with no accepted namespace socket by the deadline gets a Socket.IO
 *   CONNECT_ERROR with `handshake_timeout` (the client sees `connect_error`), then is closed.
 *   Socket.IO's own `connectTimeout` stays as a backstop behind this.
 */
export function enforceHandshakeDeadline(http: HttpServer, io: Server, timeoutMs: number): void {
  http.headersTimeout = timeoutMs;
  http.requestTimeout = timeoutMs;
  http.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      const body = JSON.stringify({
        code: ErrorCode.HandshakeTimeout,
        message: `the request did not complete within ${timeoutMs} ms`,
      });
      socket.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    // Node's own answers to an oversized or unparseable request.
    socket.end(
      error.code === 'HPE_HEADER_OVERFLOW'
        ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n'
        : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n',
    );
  });

  // Pending deadlines by Engine.IO connection, cleared when its namespace socket joins, so a
  // live connection keeps no timer or listener for its handshake. A connection that closes
  // first clears its deadline through its transport's 'close': the edge serves WebSocket only,
  // so a connection keeps its one transport, which closes with it (a deadline that fires in
  // between finds the connection closed and does nothing). The connection's own 'close' already
  // has two listeners, and a third would grow its listener array for good (about 150 bytes per
  // connection, even once removed).
  const deadlines = new WeakMap<object, () => void>();
  io.on('connection', (socket) => deadlines.get(socket.conn)?.());
  io.engine.on('connection', (conn: EngineConnection) => {
    const timer = setTimeout(() => {
      const data: ConnectErrorData = {
        code: ErrorCode.HandshakeTimeout,
        message: `no session handshake was accepted within ${timeoutMs} ms`,
      };
      conn.send(CONNECT_ERROR_PREFIX + JSON.stringify({ message: data.code, data }));
      conn.close();
    }, timeoutMs);
    timer.unref();
    const { transport } = conn;
    const cancel = (): void => {
      clearTimeout(timer);
      transport.off('close', cancel);
      deadlines.delete(conn);
    };
    deadlines.set(conn, cancel);
    transport.once('close', cancel);
  });
}
