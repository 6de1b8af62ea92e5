/**
 * Edge shutdown and drain, in one place: the sequence (stop taking connections, tell each client
 * to move, spread over the drain window, store its acks, close it cleanly, wait for transports,
 * release Redis), the bounds on each step, and the process's signal handling. The edge server,
 * its connections and main.ts call these; none of them times a shutdown step of its own.
 */
import { lifecycleLogger, type Logger } from '@holdfast/config';
import { ErrorCode, type NoticePayload } from '@holdfast/protocol';

/** Hint sent with `drain`: the client should wait this long before reconnecting. */
export const DRAIN_RETRY_AFTER_MS = 100;
/** Hint sent with `drain` when the edge moves its clients because Redis is unreachable. */
export const REDIS_LOSS_RETRY_AFTER_MS = DRAIN_RETRY_AFTER_MS * 10;
/** A drain waits this long at most for acks to be stored before it closes anyway. */
export const ACK_FLUSH_LIMIT_MS = 2000;
/** After a disconnect, acks it had sent are still stored for this long (Redis may be slow). */
export const ACK_FINISH_LIMIT_MS = 10_000;
/** If the client has not closed its transport this long after our disconnect packet, we do. */
export const TRANSPORT_CLOSE_GRACE_MS = 2000;
/** How long a drain waits for clients to close their transports after the disconnect packet. */
const TRANSPORT_DRAIN_LIMIT_MS = 3000;
/** How long closing each Redis connection may take at shutdown. */
const CLOSE_LIMIT_MS = 2000;
/** How often a drain looks whether every transport is closed. */
const TRANSPORT_POLL_MS = 50;

/** What the drain sequence needs of one session connection. */
export interface DrainableConnection {
  /** No more deliveries (acks are still taken and stored); false if it is closing already. */
  stopDelivering(): boolean;
  notify(event: 'drain', notice: NoticePayload): void;
  /** Resolves when the acks taken so far are stored, or the writer gave up. */
  flushAcks(): Promise<void>;
  /** Clean up and close the transport cleanly (see closeTransport). */
  closeNow(): void;
}

/** Move one client to another edge: persist its acks first, then close cleanly. */
export async function drainConnection(connection: DrainableConnection, retryAfterMs: number): Promise<void> {
  if (!connection.stopDelivering()) return;
  connection.notify('drain', {
    code: ErrorCode.ServerDraining,
    message: 'this edge is shutting down; reconnect',
    retryAfterMs,
  });
  // Acks that arrive meanwhile are still taken and stored; the next edge starts after them.
  await settleWithin(connection.flushAcks(), ACK_FLUSH_LIMIT_MS);
  connection.closeNow();
}

/** What the drain sequence needs of the edge. */
export interface DrainableEdge {
  readonly connections: Iterable<DrainableConnection>;
  /** Drains start at random over this window, so clients do not all reconnect at once. */
  readonly spreadMs: number;
  /** Engine.IO transports still open. */
  engineClients(): number;
  /** Release everything (see closeEdge). */
  close(): Promise<void>;
}

/**
 * Graceful shutdown, once the edge stopped claiming readiness and refuses new connections: tell
 * every client to move (spread over the drain window), store their acks, close each with a
 * proper close frame, then release Redis.
 */
export async function drainEdge(edge: DrainableEdge): Promise<void> {
  await Promise.all(
    [...edge.connections].map(async (connection) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * edge.spreadMs));
      await drainConnection(connection, DRAIN_RETRY_AFTER_MS);
    }),
  );
  // io.close() discards what engine.io has not written yet, which could be a disconnect
  // packet: let clients close their transports first (each is closed for them after a grace).
  const deadline = Date.now() + TRANSPORT_DRAIN_LIMIT_MS;
  while (edge.engineClients() > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, TRANSPORT_POLL_MS));
  }
  await edge.close();
}

/**
 * Stop at once (tests, and the end of a drain): close the Socket.IO server, then give each Redis
 * connection a bounded, polite goodbye (when Redis is already gone a QUIT would wait for a
 * reconnection that never comes and hold the process open), then cut what is left.
 */
export async function closeEdge(
  io: { close(done: () => void): unknown },
  redisClosings: () => ReadonlyArray<Promise<unknown>>,
  cutAfterwards: () => void,
): Promise<void> {
  await new Promise<void>((resolve) => void io.close(() => resolve()));
  await Promise.all(redisClosings().map((closing) => settleWithin(closing, CLOSE_LIMIT_MS)));
  cutAfterwards();
}

/**
 * The edge process's shutdown: SIGTERM (and SIGINT) start a graceful drain; the process exits 0
 * when it is done, or when `drainTimeoutMs` runs out, whichever comes first.
 */
export function drainOnSignals(
  edge: { drain(): Promise<void>; readonly connectionCount: number },
  drainTimeoutMs: number,
  logger: Logger,
): void {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    lifecycleLogger(logger).info({ signal, connections: edge.connectionCount }, 'edge draining');
    setTimeout(() => {
      logger.error('drain timeout: exiting with connections open');
      process.exit(0);
    }, drainTimeoutMs).unref();
    edge.drain().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Wait for `promise` at most `ms`; its outcome does not matter, only that shutdown moves on. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}
