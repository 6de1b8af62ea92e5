import { io, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type BatchPayload,
  type CompletePayload,
  type ConnectErrorData,
  type HelloPayload,
  type LogPosition,
  type NoticePayload,
  type ResetPayload,
} from '@holdfast/protocol';
import { waitFor } from '@holdfast/testing';

export interface Delivered {
  readonly epoch: string;
  readonly offset: number;
  readonly data: unknown;
}

export interface RawClientOptions {
  sessionId: string;
  token: string;
  position?: LogPosition;
  /** Ack every batch as it arrives (default true); false leaves acking to the test. */
  autoAck?: boolean;
  /** Extra handshake fields, for bad-input tests. */
  auth?: Record<string, unknown>;
  extraHeaders?: Record<string, string>;
  query?: Record<string, string>;
  /** Called for every delivered message, in arrival order. */
  onDelivered?: (delivered: Delivered) => void;
}

/**
 * A protocol-level test client on plain socket.io-client: no reconnects, no dedupe, records
 * everything the edge sends, so tests can assert on exactly what went over the wire.
 */
export class RawClient {
  readonly socket: Socket;
  readonly delivered: Delivered[] = [];
  readonly hellos: HelloPayload[] = [];
  readonly resets: ResetPayload[] = [];
  readonly notices: Array<{ event: string; payload: NoticePayload }> = [];
  readonly batchSizes: number[] = [];
  /** `complete` events, with how many messages had been delivered when each came. */
  readonly completes: Array<CompletePayload & { deliveredBefore: number }> = [];
  connectError: { message: string; data: ConnectErrorData | undefined } | undefined;
  disconnectReason: string | undefined;
  private epoch: string | undefined;

  constructor(url: string, options: RawClientOptions) {
    this.socket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: {
        v: PROTOCOL_VERSION,
        sessionId: options.sessionId,
        token: options.token,
        ...(options.position ? { position: options.position } : {}),
        ...options.auth,
      },
      ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
      ...(options.query ? { query: options.query } : {}),
    });
    const autoAck = options.autoAck ?? true;
    this.socket.on('hello', (hello: HelloPayload) => {
      this.hellos.push(hello);
      this.epoch = hello.epoch;
    });
    this.socket.on('reset', (reset: ResetPayload) => {
      this.resets.push(reset);
      this.epoch = reset.newEpoch;
    });
    this.socket.on('batch', (batch: BatchPayload) => {
      this.batchSizes.push(batch.data.length);
      batch.data.forEach((data, i) => {
        const delivered = { epoch: batch.epoch, offset: batch.from + i, data };
        this.delivered.push(delivered);
        options.onDelivered?.(delivered);
      });
      if (autoAck) this.ack(batch.from + batch.data.length - 1, batch.epoch);
    });
    for (const event of ['session_ended', 'replaced', 'drain', 'fault']) {
      this.socket.on(event, (payload: NoticePayload) => this.notices.push({ event, payload }));
    }
    this.socket.on('complete', (complete: CompletePayload) =>
      this.completes.push({ ...complete, deliveredBefore: this.delivered.length }),
    );
    this.socket.on('connect_error', (error: Error & { data?: ConnectErrorData }) => {
      this.connectError = { message: error.message, data: error.data };
    });
    this.socket.on('disconnect', (reason) => (this.disconnectReason = reason));
  }

  static async connect(url: string, options: RawClientOptions): Promise<RawClient> {
    const client = new RawClient(url, options);
    await waitFor(() => client.hellos.length > 0 || client.connectError !== undefined, {
      what: 'hello or connect_error',
    });
    return client;
  }

  /** The position to resume from: the last offset received. */
  get position(): LogPosition | undefined {
    const last = this.delivered.at(-1);
    if (last) return { epoch: last.epoch, offset: last.offset };
    const hello = this.hellos.at(-1);
    return hello ? { epoch: this.epoch ?? hello.epoch, offset: hello.startOffset - 1 } : undefined;
  }

  get lastOffset(): number {
    return this.delivered.at(-1)?.offset ?? 0;
  }

  ack(offset: number, epoch = this.epoch): void {
    this.socket.emit('ack', { epoch, offset });
  }

  notice(event: string): NoticePayload | undefined {
    return this.notices.find((n) => n.event === event)?.payload;
  }

  waitForOffset(offset: number, timeoutMs = 15_000): Promise<boolean> {
    return waitFor(() => this.lastOffset >= offset, {
      timeoutMs,
      what: `offset ${offset} (at ${this.lastOffset})`,
    });
  }

  waitForDisconnect(timeoutMs = 10_000): Promise<string> {
    return waitFor(() => this.disconnectReason, { timeoutMs, what: 'disconnect' });
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** Offsets in order with no gap and no repeat, starting at `first`. */
export function assertContiguous(delivered: readonly Delivered[], first: number, last: number): void {
  const offsets = delivered.map((d) => d.offset);
  const expected = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  if (offsets.length !== expected.length || offsets.some((o, i) => o !== expected[i])) {
    const firstBad = offsets.findIndex((o, i) => o !== expected[i]);
    throw new Error(
      `expected offsets ${first}..${last} exactly once in order; got ${offsets.length} deliveries, first mismatch at index ${firstBad}: ${offsets.slice(Math.max(0, firstBad - 3), firstBad + 3).join(',')}`,
    );
  }
}
