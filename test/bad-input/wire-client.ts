import WebSocket from 'ws';
import { PROTOCOL_VERSION, type ConnectErrorData } from '@holdfast/protocol';
import { waitFor } from '@holdfast/testing';

/** A Socket.IO packet as it arrived: Engine.IO `message` frames only, decoded once. */
export interface WirePacket {
  /** Socket.IO packet type: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5/6 binary. */
  readonly type: number;
  readonly ackId: number | undefined;
  readonly data: unknown;
}

/**
 * A Socket.IO v4 client written as raw Engine.IO frames over `ws`, for input no well-behaved
 * client library would send: malformed packets, binary placeholders, hostile event names,
 * handshakes that never happen. It answers pings (so the edge keeps it) and records every
 * frame; nothing is retried or repaired.
 */
export class WireClient {
  readonly frames: Array<string | Buffer> = [];
  readonly packets: WirePacket[] = [];
  opened = false;
  closed: { code: number; reason: string } | undefined;
  /** The HTTP answer when the edge refused the upgrade. */
  refused: { status: number; body: Record<string, unknown> } | undefined;
  private nextAckId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw, isBinary) => {
      const frame = isBinary ? Buffer.from(raw as Buffer) : String(raw);
      this.frames.push(frame);
      if (typeof frame !== 'string') return;
      if (frame.startsWith('0')) this.opened = true;
      else if (frame === '2') ws.send('3');
      else if (frame.startsWith('4')) this.packets.push(decodeSocketIo(frame.slice(1)));
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        this.refused = { status: res.statusCode ?? 0, body };
      });
    });
    ws.on('error', () => undefined);
  }

  /** Open the WebSocket and wait for the Engine.IO open packet (or a refused upgrade). */
  static async open(
    baseUrl: string,
    headers: Record<string, string> = {},
    options: { localAddress?: string } = {},
  ): Promise<WireClient> {
    const client = WireClient.start(baseUrl, headers, options);
    await waitFor(() => client.opened || client.closed !== undefined || client.refused, {
      what: 'Engine.IO open',
    });
    if (!client.opened) {
      throw new Error(`the edge refused the WebSocket: ${JSON.stringify(client.refused ?? client.closed)}`);
    }
    return client;
  }

  /** Start opening the WebSocket (from `localAddress`, e.g. 127.0.0.7, to be another client address). */
  static start(
    baseUrl: string,
    headers: Record<string, string> = {},
    options: { localAddress?: string } = {},
  ): WireClient {
    const url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    return new WireClient(
      new WebSocket(url, {
        headers,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      }),
    );
  }

  /** Wait until the upgrade either succeeded (`undefined`) or was answered with an HTTP error. */
  async upgradeOutcome(): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
    await waitFor(() => this.opened || this.refused !== undefined || this.closed !== undefined, {
      what: 'the upgrade to succeed or fail',
    });
    return this.refused;
  }

  /** Join the default namespace with this `auth` and wait for CONNECT or CONNECT_ERROR. */
  async join(auth: Record<string, unknown>): Promise<WirePacket> {
    this.send(`40${JSON.stringify({ v: PROTOCOL_VERSION, ...auth })}`);
    return waitFor(() => this.packets.find((p) => p.type === 0 || p.type === 4), {
      what: 'CONNECT or CONNECT_ERROR',
    });
  }

  /** A handshake accepted: the `hello` event that follows CONNECT. */
  async joined(auth: Record<string, unknown>): Promise<void> {
    const answer = await this.join(auth);
    if (answer.type !== 0) throw new Error(`handshake refused: ${JSON.stringify(answer.data)}`);
    await this.waitForEvent('hello');
  }

  /** Send one Engine.IO frame exactly as given (a string is a text frame, a Buffer binary). */
  send(frame: string | Buffer): void {
    this.ws.send(frame);
  }

  /** EVENT `[event, ...args]`; with `withAck`, the ack id to wait for with `waitForAck`. */
  emit(event: unknown, args: unknown[] = [], withAck = false): number | undefined {
    const ackId = withAck ? this.nextAckId++ : undefined;
    this.send(`42${ackId ?? ''}${JSON.stringify([event, ...args])}`);
    return ackId;
  }

  events(name: string): unknown[][] {
    return this.packets
      .filter((p) => p.type === 2 && Array.isArray(p.data) && p.data[0] === name)
      .map((p) => (p.data as unknown[]).slice(1));
  }

  /** Every `fault` code received, in order. */
  faultCodes(): string[] {
    return this.events('fault').map((args) => (args[0] as { code: string }).code);
  }

  waitForEvent(name: string, count = 1): Promise<unknown[][]> {
    return waitFor(() => (this.events(name).length >= count ? this.events(name) : undefined), {
      what: `${count} × ${name}`,
    });
  }

  waitForAck(ackId: number): Promise<unknown> {
    return waitFor(() => this.packets.find((p) => p.type === 3 && p.ackId === ackId), {
      what: `ack ${ackId}`,
    }).then((p) => (p.data as unknown[])[0]);
  }

  waitForClose(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closed, { timeoutMs, what: 'the WebSocket to close' });
  }

  connectError(): ConnectErrorData | undefined {
    const packet = this.packets.find((p) => p.type === 4);
    return (packet?.data as { data?: ConnectErrorData } | undefined)?.data;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Decode a text Socket.IO packet `<type>[<nsp>,][<ackId>][json]` (no namespaces used here). */
function decodeSocketIo(text: string): WirePacket {
  const type = Number(text[0]);
  const match = /^(\d*)([\s\S]*)$/.exec(text.slice(1));
  const ackId = match?.[1] ? Number(match[1]) : undefined;
  const json = match?.[2] ?? '';
  let data: unknown;
  try {
    data = json ? JSON.parse(json) : undefined;
  } catch {
    data = json;
  }
  return { type, ackId, data };
}
