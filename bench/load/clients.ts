/**
 * The load clients: one process holding every benchmark client connection (WebSocket only),
 * kept light so it takes as little of the shared CPU as possible. Every system gets the same
 * kind of connection (env LOAD_CLIENT: `raw` framing over ws, the default, or socket.io-client;
 * see load-socket.ts), so no peer's figures carry a heavier client than another's. Holdfast
 * clients speak the wire protocol directly (hello, batch, cumulative acks coalesced like the
 * SDK does); Socket.IO clients just receive. Every received message goes to a SessionTracker.
 */
import { DEFAULT_ACK_EVERY_MESSAGES, DEFAULT_ACK_EVERY_MS } from '@holdfast/client';
import { PROTOCOL_VERSION, type BatchPayload, type HelloPayload } from '@holdfast/protocol';
import { emitEvent, serve } from '../lib/ipc.js';
import { LoopMonitor } from '../lib/loop-monitor.js';
import { waitUntil } from '../lib/stats.js';
import { tokenFor } from '@holdfast/testing';
import { SessionTracker } from './session-tracker.js';
import { DEFAULT_LOAD_CLIENT, isLoadClientKind, type LoadSocket } from './load-socket.js';
import { openLoadSocket } from './open-load-socket.js';

type System = 'holdfast' | 'plain' | 'recovery';

const requestedKind = process.env.LOAD_CLIENT ?? DEFAULT_LOAD_CLIENT;
if (!isLoadClientKind(requestedKind)) throw new Error(`unknown LOAD_CLIENT ${JSON.stringify(requestedKind)}`);
const kind = requestedKind;

interface Client {
  /** Set as soon as the client is opened (a Holdfast retry replaces it). */
  socket: LoadSocket | undefined;
  /** Holdfast: the position to resume from. */
  epoch?: string;
  lastOffset: number;
  unacked: number;
  ackTimer?: NodeJS.Timeout;
  helloSeen: boolean;
}

/**
 * Ack as the SDK does by default: after this many messages or this long after the first
 * unacked one (the edge's window of 1,000 is far above either).
 */
const ACK_EVERY_MESSAGES = DEFAULT_ACK_EVERY_MESSAGES;
const ACK_EVERY_MS = DEFAULT_ACK_EVERY_MS;
const CONNECT_CONCURRENCY = 100;

const tracker = new SessionTracker();
/** This process's event-loop delay and GC pauses since the last reset (the stage table). */
const loop = new LoopMonitor();
let clients: Client[] = [];
let system: System = 'plain';
let sessionIds: string[] = [];
let reportTimer: NodeJS.Timeout | undefined;
let lastReported = -1;
/** Holdfast handshakes refused with a retryable code and tried again (as the SDK would). */
let handshakeRetries = 0;
/** Wait before retrying a refused handshake: about the SDK's first backoff step. */
const RETRY_AFTER_MS = 250;
/** Bumped by closeAll, so a retry scheduled before it does not reopen a closed client. */
let generation = 0;

function holdfastClient(url: string, session: number, token: string, client?: Client): Client {
  const auth: Record<string, unknown> = { v: PROTOCOL_VERSION, sessionId: sessionIds[session], token };
  if (client?.epoch !== undefined) auth.position = { epoch: client.epoch, offset: client.lastOffset };
  const born = generation;
  const c: Client = client ?? { socket: undefined, lastOffset: 0, unacked: 0, helloSeen: false };
  c.helloSeen = false;
  c.unacked = 0;
  const ack = (): void => {
    clearTimeout(c.ackTimer);
    c.ackTimer = undefined;
    c.unacked = 0;
    c.socket?.emit('ack', { epoch: c.epoch, offset: c.lastOffset });
  };
  c.socket = openLoadSocket(kind, url, auth, {
    // Refused (a timeout under a storm, a full edge): try again like the SDK, so a storm's
    // figures include the retries instead of a client that never comes back.
    connectError: (refusal) => {
      handshakeRetries += 1;
      const delay = refusal.data?.retryAfterMs ?? RETRY_AFTER_MS;
      setTimeout(() => {
        if (born === generation) holdfastClient(url, session, token, c);
      }, delay).unref();
    },
    events: {
      hello: (payload) => {
        const hello = payload as HelloPayload;
        c.epoch = hello.epoch;
        c.helloSeen = true;
      },
      batch: (payload) => {
        const batch = payload as BatchPayload;
        for (const data of batch.data) tracker.record(session, data as string);
        c.lastOffset = batch.from + batch.data.length - 1;
        c.epoch = batch.epoch;
        c.unacked += batch.data.length;
        if (c.unacked >= ACK_EVERY_MESSAGES) ack();
        else c.ackTimer ??= setTimeout(ack, ACK_EVERY_MS);
      },
    },
  });
  return c;
}

function socketIoClient(url: string, session: number): Client {
  const c: Client = { socket: undefined, lastOffset: 0, unacked: 0, helloSeen: false };
  c.socket = openLoadSocket(
    kind,
    url,
    { session },
    {
      connect: () => (c.helloSeen = true),
      events: { m: (payload) => tracker.record(session, payload as string) },
    },
  );
  return c;
}

/**
 * Open `count` connections, `concurrency` at a time, each slice waiting for its hellos. A storm
 * (reconnect) opens them all at once and may wait long: the edge is busy replaying to the
 * first ones while the last are still handshaking.
 */
async function connectAll(
  url: string,
  count: number,
  reuse: boolean,
  concurrency = CONNECT_CONCURRENCY,
  timeoutMs = 60_000,
): Promise<void> {
  const tokens =
    system === 'holdfast' ? await Promise.all(sessionIds.slice(0, count).map((id) => tokenFor(id))) : [];
  const previous = clients;
  const next: Client[] = [];
  for (let i = 0; i < count; i += concurrency) {
    const slice: Client[] = [];
    for (let s = i; s < Math.min(count, i + concurrency); s++) {
      slice.push(
        system === 'holdfast'
          ? holdfastClient(url, s, tokens[s] as string, reuse ? previous[s] : undefined)
          : socketIoClient(url, s),
      );
    }
    await waitUntil(
      () => slice.every((c) => c.helloSeen),
      `${slice.length} connections to ${url}`,
      timeoutMs,
    );
    next.push(...slice);
  }
  clients = next;
}

function closeAll(): void {
  generation += 1;
  for (const c of clients) {
    clearTimeout(c.ackTimer);
    c.ackTimer = undefined;
    c.socket?.close();
  }
}

serve({
  /** Connect `count` clients (sessions 0..count-1) to `url`. */
  connect: async (args: { system: System; url: string; count: number; sessionIds?: string[] }) => {
    closeAll();
    system = args.system;
    sessionIds = args.sessionIds ?? [];
    clients = [];
    await connectAll(args.url, args.count, false);
    return clients.length;
  },
  /** Close every connection (cleanly), keeping positions and sequence expectations. */
  disconnect: () => {
    closeAll();
    return clients.length;
  },
  /** Holdfast: reconnect every client to `url`, resuming from its last received offset. */
  reconnect: async ({ url }: { url: string }) => {
    await connectAll(url, clients.length, true, clients.length, 30 * 60_000);
    return clients.length;
  },
  reset: () => {
    tracker.reset();
    loop.reset();
    lastReported = -1;
  },
  loop: () => loop.read(),
  /** Which client carries the connections (the report's header says). */
  kind: () => kind,
  snapshot: () => tracker.snapshot(),
  /** Refused handshakes tried again since the process started. */
  handshakeRetries: () => handshakeRetries,
  /** Per session: the next sequence number expected (= messages received in order so far). */
  received: () => clients.map((_, s) => tracker.next[s] ?? 0),
  /** Report the delivered count every `everyMs` (closed-loop feedback), or stop with 0. */
  report: ({ everyMs }: { everyMs: number }) => {
    clearInterval(reportTimer);
    if (everyMs <= 0) return;
    reportTimer = setInterval(() => {
      const delivered = tracker.deliveredCount;
      if (delivered === lastReported) return;
      lastReported = delivered;
      emitEvent('delivered', delivered);
    }, everyMs);
  },
});
