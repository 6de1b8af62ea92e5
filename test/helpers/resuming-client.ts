import { waitFor } from '@holdfast/testing';
import { RawClient, type Delivered } from './raw-client.js';

/**
 * A client that, like the SDK will, reconnects after any connection loss — to the next URL in
 * its list — resuming from its last received position. Unlike the SDK it hides nothing:
 * every delivery on every connection is recorded, so tests count duplicates and gaps.
 */
export class ResumingClient {
  readonly delivered: Delivered[] = [];
  readonly connections: RawClient[] = [];
  readonly disconnectReasons: string[] = [];
  private urlIndex = 0;
  private stopped = false;
  private current: RawClient | undefined;

  constructor(
    private readonly urls: readonly string[],
    private readonly options: { sessionId: string; token: () => Promise<string> | string },
  ) {}

  get lastOffset(): number {
    return this.delivered.at(-1)?.offset ?? 0;
  }

  get connected(): boolean {
    return this.current?.socket.connected === true && this.current.hellos.length > 0;
  }

  async start(): Promise<void> {
    await this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.current?.close();
  }

  waitForOffset(offset: number, timeoutMs = 30_000): Promise<boolean> {
    return waitFor(() => this.lastOffset >= offset, {
      timeoutMs,
      what: `offset ${offset} (at ${this.lastOffset})`,
    });
  }

  private async connect(): Promise<void> {
    while (!this.stopped) {
      const url = this.urls[this.urlIndex % this.urls.length]!;
      const last = this.delivered.at(-1);
      const client = new RawClient(url, {
        sessionId: this.options.sessionId,
        token: await this.options.token(),
        ...(last ? { position: { epoch: last.epoch, offset: last.offset } } : {}),
        onDelivered: (delivered) => this.delivered.push(delivered),
      });
      const outcome = await waitFor(
        () => (client.hellos.length > 0 ? 'ok' : client.connectError ? 'error' : undefined),
        {
          timeoutMs: 10_000,
          what: 'hello or connect_error',
        },
      ).catch(() => 'error');
      if (outcome === 'ok') {
        this.attach(client);
        return;
      }
      client.close();
      this.urlIndex++;
      await new Promise((resolve) => setTimeout(resolve, 50)); // backoff between attempts
    }
  }

  private attach(client: RawClient): void {
    this.current = client;
    this.connections.push(client);
    client.socket.on('disconnect', (reason) => {
      this.disconnectReasons.push(reason);
      const terminal = client.notice('replaced') ?? client.notice('session_ended');
      if (this.stopped || terminal || reason === 'io client disconnect') return;
      this.urlIndex++;
      void this.connect();
    });
  }
}
