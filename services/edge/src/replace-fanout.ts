/**
 * Replacing a consumer's previous connection wherever it is: closed here when it is on this
 * edge, else announced to every edge over the Socket.IO Redis adapter, and the edge holding it
 * closes it. The lease generation already fences the old connection; this makes it leave at
 * once instead of at its next lease check.
 */

/** Server-to-server event (over the Redis adapter): close the connection with this socket id. */
const REPLACE_EVENT = 'holdfast:replace';

interface ServerSideEvents {
  on(event: string, listener: (holder: string) => void): unknown;
  serverSideEmit(event: string, holder: string): unknown;
}

export class ReplaceFanout {
  constructor(
    private readonly io: ServerSideEvents,
    /** This edge's session connections, by socket id. */
    private readonly local: ReadonlyMap<string, { replace(): void }>,
  ) {
    io.on(REPLACE_EVENT, (holder) => this.local.get(holder)?.replace());
  }

  /** Close an older connection of a consumer, wherever it is. */
  replaceHolder(holder: string): void {
    const connection = this.local.get(holder);
    if (connection) connection.replace();
    else this.io.serverSideEmit(REPLACE_EVENT, holder);
  }
}
