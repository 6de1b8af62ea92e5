import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TokenBucket } from './token-bucket.js';

export interface FaultProxyOptions {
  /** Default: a port the kernel picks, so there is no window in which another process can take it. */
  listenPort?: number;
  /** Default 127.0.0.1. */
  targetHost?: string;
  targetPort: number;
}

/** 'downstream' is server -> client, 'upstream' is client -> server. */
export type Direction = 'downstream' | 'upstream';
export type Directions = Direction | 'both';

const HOST = '127.0.0.1';
// Each direction of each connection queues at most about this much before the proxy stops reading its
// source, so a throttled, delayed or stalled destination pushes back on the sender like a full TCP window
// instead of growing the proxy. Like a real window it caps throughput under latency: about
// HIGH_WATER_BYTES per latency period.
const HIGH_WATER_BYTES = 64 * 1024;
const LOW_WATER_BYTES = 16 * 1024;
// A throttle's burst allowance is 50 ms worth of bytes: smooth at test rates, yet timers fire at most
// about 20 times a second per direction.
const BURST_SECONDS = 0.05;
const MAX_BURST_BYTES = 64 * 1024;

interface QueuedChunk {
  chunk: Buffer;
  /** performance.now() time at which the chunk may leave. */
  readonly due: number;
}

/** One direction of one proxied connection. */
interface Pipe {
  readonly direction: Direction;
  readonly from: Socket;
  readonly to: Socket;
  readonly queue: QueuedChunk[];
  queuedBytes: number;
  /** Due time of the last queued chunk: jitter must never let a chunk overtake an earlier one. */
  lastDue: number;
  bucket: TokenBucket | undefined;
  timer: NodeJS.Timeout | undefined;
  pausedSource: boolean;
  waitingForDrain: boolean;
  /** The source sent FIN: end the destination once everything before it is delivered. */
  sourceEnded: boolean;
  /** The source went away without a clean FIN: reset the destination once the queue is delivered. */
  sourceReset: boolean;
  /** When the FIN or reset may be passed on: it is delayed like a chunk, so latency applies to it too. */
  terminalDue: number;
  /** Blackholed on its own (blackholeConnection): this connection only, for good. */
  silenced: boolean;
}

interface Connection {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly pipes: readonly [upstream: Pipe, downstream: Pipe];
  openSockets: number;
  /** Set when the proxy itself destroyed the sockets, so their 'close' events are not faults to forward. */
  tornDown: boolean;
}

/**
 * A TCP proxy on 127.0.0.1 that injects network faults between clients and a server: latency, bandwidth
 * limits, half-open blackholes, resets and refused connections. Faults apply to every connection, current
 * and future.
 *
 * A FIN or reset from one side is forwarded after the bytes queued before it, and is held back (not lost)
 * while its direction is blackholed, the way a retransmitted FIN arrives once a dead link comes back.
 */
export class FaultProxy {
  readonly #server: Server;
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #connections = new Set<Connection>();
  readonly #blackholed = new Set<Direction>();
  readonly #held = new Set<Direction>();
  readonly #bandwidth: Record<Direction, number | undefined> = { downstream: undefined, upstream: undefined };
  readonly #forwarded = { downstream: 0, upstream: 0 };
  readonly #dropped = { downstream: 0, upstream: 0 };
  readonly #cuts = new Map<NodeJS.Timeout, () => void>();
  #port = 0;
  #latencyMs = 0;
  #jitterMs = 0;
  #refusing = false;
  #closing: Promise<void> | undefined;

  private constructor(targetHost: string, targetPort: number) {
    this.#targetHost = targetHost;
    this.#targetPort = targetPort;
    // Both halves of a TCP connection close independently; without allowHalfOpen Node would end our
    // write side as soon as the client sends FIN, before the queued (delayed) bytes are delivered.
    this.#server = createServer({ allowHalfOpen: true }, (client) => this.#accept(client));
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options.targetHost ?? HOST, options.targetPort);
    await proxy.#listen(options.listenPort ?? 0);
    return proxy;
  }

  /** Where clients connect. */
  get port(): number {
    return this.#port;
  }

  url(scheme = 'http'): string {
    return `${scheme}://${HOST}:${this.#port}`;
  }

  /** Connections with at least one side still open. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Bytes handed to the destination socket, per direction, since start. */
  get bytesForwarded(): { downstream: number; upstream: number } {
    return { ...this.#forwarded };
  }

  /** Bytes lost to blackholes, per direction, since start. */
  get bytesDropped(): { downstream: number; upstream: number } {
    return { ...this.#dropped };
  }

  /** Bytes the proxy holds in memory: its own queues plus the sockets' read and write buffers. */
  get bufferedBytes(): number {
    let total = 0;
    for (const { client, upstream, pipes } of this.#connections) {
      total += pipes[0].queuedBytes + pipes[1].queuedBytes;
      total +=
        client.readableLength + client.writableLength + upstream.readableLength + upstream.writableLength;
    }
    return total;
  }

  /**
   * Delays every chunk by `ms` ± `jitterMs` (uniform) in both directions. Applies to chunks that arrive
   * from now on; chunks already queued keep their delay, like packets already in flight.
   */
  setLatency(ms: number, jitterMs = 0): void {
    assertNonNegative('latency', ms);
    assertNonNegative('jitter', jitterMs);
    this.#latencyMs = ms;
    this.#jitterMs = jitterMs;
  }

  /** Throttles each connection separately; `undefined` lifts the limit. Default direction: downstream. */
  setBandwidth(bytesPerSecond: number | undefined, direction: Directions = 'downstream'): void {
    if (bytesPerSecond !== undefined && !(Number.isFinite(bytesPerSecond) && bytesPerSecond > 0)) {
      throw new RangeError(
        `FaultProxy: bandwidth must be a positive number or undefined, got ${bytesPerSecond}`,
      );
    }
    for (const dir of expand(direction)) this.#bandwidth[dir] = bytesPerSecond;
    for (const pipe of this.#pipes()) {
      if (!expand(direction).includes(pipe.direction)) continue;
      pipe.bucket = this.#bucketFor(pipe.direction);
      this.#pump(pipe);
    }
  }

  /**
   * Silently discards bytes in `direction` (added to any direction already blackholed) without closing
   * anything, like a dead link: both ends believe they are connected. Bytes already queued in the proxy
   * are lost too. New connections are still accepted (and connected upstream) but forward nothing.
   *
   * The proxy keeps reading and discarding, so the sender's writes keep succeeding; on a real dead link
   * its send buffer would eventually fill. Pausing the source instead would keep the bytes in the kernel
   * and deliver them after restore(), which a dead link never does.
   */
  blackhole(direction: Directions = 'both'): void {
    for (const dir of expand(direction)) this.#blackholed.add(dir);
    for (const pipe of this.#pipes()) {
      if (!this.#blackholed.has(pipe.direction)) continue;
      this.#dropped[pipe.direction] += pipe.queuedBytes;
      this.#discard(pipe);
    }
  }

  /**
   * Blackholes one current connection, both ways, for good (restore() does not lift it): the one whose
   * upstream socket has the local port `upstreamPort`, which is the client address the server sees (e.g.
   * `addr=` in Redis's CLIENT LIST). Every other connection, current or future, is untouched: one silent
   * client connection among healthy ones through the same proxy. Returns false if there is no such
   * connection.
   */
  blackholeConnection(upstreamPort: number): boolean {
    for (const connection of this.#connections) {
      if (connection.upstream.localPort !== upstreamPort) continue;
      for (const pipe of connection.pipes) {
        pipe.silenced = true;
        this.#dropped[pipe.direction] += pipe.queuedBytes;
        this.#discard(pipe);
      }
      return true;
    }
    return false;
  }

  /**
   * Keeps every byte in `direction` queued in the proxy, forwarding nothing and losing nothing,
   * until `release()`: a link that stalls and then catches up, so what was sent meanwhile
   * arrives late, in order (a held command reaches the server only when the test says so).
   * Backpressure still applies, so a long hold stops reading the source at the high-water mark.
   */
  hold(direction: Directions = 'both'): void {
    for (const dir of expand(direction)) this.#held.add(dir);
  }

  /** Lifts holds: everything held is forwarded now, in order. */
  release(direction: Directions = 'both'): void {
    for (const dir of expand(direction)) this.#held.delete(dir);
    for (const pipe of this.#pipes()) this.#pump(pipe);
  }

  /** Bytes queued in the proxy in `direction` (e.g. held), over all connections. */
  queuedBytes(direction: Direction): number {
    let total = 0;
    for (const pipe of this.#pipes()) if (pipe.direction === direction) total += pipe.queuedBytes;
    return total;
  }

  /** Lifts blackholes, holds, latency and bandwidth limits. Bytes lost to a blackhole stay lost. */
  restore(): void {
    this.#blackholed.clear();
    this.#held.clear();
    this.#latencyMs = 0;
    this.#jitterMs = 0;
    this.#bandwidth.downstream = undefined;
    this.#bandwidth.upstream = undefined;
    for (const pipe of this.#pipes()) {
      pipe.bucket = undefined;
      this.#pump(pipe);
    }
  }

  /** Resets (TCP RST) both sides of every current connection. */
  resetAll(): void {
    for (const connection of [...this.#connections]) this.#tearDown(connection, 'reset');
  }

  /** Resets every current connection and resets new ones on arrival for `durationMs`. */
  cut(durationMs: number): Promise<void> {
    assertNonNegative('cut duration', durationMs);
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#cuts.delete(timer);
        resolve();
      };
      const timer = setTimeout(finish, durationMs);
      this.#cuts.set(timer, finish);
      this.resetAll();
    });
  }

  /**
   * While true, new connections are accepted by the kernel and immediately reset, so clients see
   * ECONNRESET rather than ECONNREFUSED. Current connections are unaffected.
   */
  refuseNew(refuse: boolean): void {
    this.#refusing = refuse;
  }

  /** Stops listening and destroys every connection. Idempotent; also ends any cut in progress. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: HOST, port, exclusive: true }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    if (address === null || typeof address === 'string') {
      throw new Error(`FaultProxy: unexpected listener address ${String(address)}`);
    }
    this.#port = address.port;
  }

  async #shutdown(): Promise<void> {
    for (const finish of [...this.#cuts.values()]) finish();
    // The callback fires once every accepted socket has closed, which the teardown below ensures.
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of [...this.#connections]) this.#tearDown(connection, 'destroy');
    await closed;
  }

  #accept(client: Socket): void {
    if (this.#closing !== undefined || this.#refusing || this.#cuts.size > 0) {
      client.on('error', ignore);
      reset(client);
      return;
    }
    const upstream = createConnection({
      host: this.#targetHost,
      port: this.#targetPort,
      allowHalfOpen: true,
    });
    const upstreamPipe = this.#createPipe('upstream', client, upstream);
    const downstreamPipe = this.#createPipe('downstream', upstream, client);
    const connection: Connection = {
      client,
      upstream,
      pipes: [upstreamPipe, downstreamPipe],
      openSockets: 2,
      tornDown: false,
    };
    this.#connections.add(connection);
    this.#wire(connection, upstreamPipe, downstreamPipe);
    this.#wire(connection, downstreamPipe, upstreamPipe);
  }

  #createPipe(direction: Direction, from: Socket, to: Socket): Pipe {
    return {
      direction,
      from,
      to,
      queue: [],
      queuedBytes: 0,
      lastDue: 0,
      bucket: this.#bucketFor(direction),
      timer: undefined,
      pausedSource: false,
      waitingForDrain: false,
      sourceEnded: false,
      sourceReset: false,
      terminalDue: 0,
      silenced: false,
    };
  }

  /** Wires `pipe.from`, the socket `pipe` reads from and `reverse` writes to. */
  #wire(connection: Connection, pipe: Pipe, reverse: Pipe): void {
    const socket = pipe.from;
    // Small writes are the norm here (throttled slices, single frames); Nagle would add its own delay.
    socket.setNoDelay(true);
    // Every error is followed by 'close', which is where a dead socket is handled; an error without a
    // listener would crash the test process instead.
    socket.on('error', ignore);
    socket.on('data', (chunk: Buffer) => this.#onData(pipe, chunk));
    socket.on('end', () => {
      pipe.sourceEnded = true;
      pipe.terminalDue = this.#dueTime(pipe);
      this.#pump(pipe);
    });
    socket.on('drain', () => {
      reverse.waitingForDrain = false;
      this.#pump(reverse);
    });
    socket.on('close', (hadError: boolean) => {
      if (connection.tornDown) return;
      if (hadError || !pipe.sourceEnded) {
        pipe.sourceReset = true;
        pipe.terminalDue = this.#dueTime(pipe);
      }
      this.#discard(reverse);
      this.#pump(pipe);
      if (--connection.openSockets === 0) this.#forget(connection);
    });
  }

  #onData(pipe: Pipe, chunk: Buffer): void {
    if (this.#blackholed.has(pipe.direction) || pipe.silenced) {
      this.#dropped[pipe.direction] += chunk.length;
      return;
    }
    pipe.queue.push({ chunk, due: this.#dueTime(pipe) });
    pipe.queuedBytes += chunk.length;
    this.#pump(pipe);
  }

  /** When something arriving now may leave: never before what arrived earlier, however the jitter falls. */
  #dueTime(pipe: Pipe): number {
    const jitter = this.#jitterMs * (2 * Math.random() - 1);
    pipe.lastDue = Math.max(performance.now() + Math.max(0, this.#latencyMs + jitter), pipe.lastDue);
    return pipe.lastDue;
  }

  /** Forwards whatever is due and affordable, then arranges to be called again when more will be. */
  #pump(pipe: Pipe): void {
    clearTimer(pipe);
    if (pipe.to.destroyed) {
      this.#discard(pipe);
      return;
    }
    if (this.#blackholed.has(pipe.direction) || pipe.silenced) return;
    if (this.#held.has(pipe.direction)) {
      this.#applyBackpressure(pipe);
      return;
    }

    const waitMs = this.#forwardDue(pipe) ?? this.#passOnClose(pipe);
    this.#applyBackpressure(pipe);
    if (waitMs !== undefined) pipe.timer = setTimeout(() => this.#pump(pipe), Math.max(1, Math.ceil(waitMs)));
  }

  /**
   * Writes queued bytes until the next one is not yet due or not yet affordable (returns the wait), or
   * the queue is empty or the destination is full (returns undefined).
   */
  #forwardDue(pipe: Pipe): number | undefined {
    while (!pipe.waitingForDrain) {
      const head = pipe.queue[0];
      if (head === undefined) return undefined;
      const early = head.due - performance.now();
      if (early > 0) return early;

      let size = head.chunk.length;
      if (pipe.bucket !== undefined) {
        const wait = pipe.bucket.msUntil(size);
        if (wait > 0) return wait;
        size = Math.min(size, Math.floor(pipe.bucket.available()));
        pipe.bucket.take(size);
      }

      const piece = head.chunk.subarray(0, size);
      if (size === head.chunk.length) pipe.queue.shift();
      else head.chunk = head.chunk.subarray(size);
      pipe.queuedBytes -= size;
      this.#forwarded[pipe.direction] += size;
      if (!pipe.to.write(piece)) pipe.waitingForDrain = true;
    }
    return undefined;
  }

  /**
   * Passes on the source's FIN or reset once everything before it is delivered and its delay is over;
   * returns the remaining delay if it is not over yet.
   */
  #passOnClose(pipe: Pipe): number | undefined {
    // A non-empty queue here means the destination is full; 'drain' pumps again.
    if (pipe.queue.length > 0 || !(pipe.sourceEnded || pipe.sourceReset)) return undefined;
    const early = pipe.terminalDue - performance.now();
    if (early > 0) return early;
    if (pipe.sourceReset) reset(pipe.to);
    else if (!pipe.to.writableEnded) pipe.to.end();
    return undefined;
  }

  #applyBackpressure(pipe: Pipe): void {
    if (!pipe.pausedSource && pipe.queuedBytes > HIGH_WATER_BYTES) {
      pipe.from.pause();
      pipe.pausedSource = true;
    } else if (pipe.pausedSource && pipe.queuedBytes <= LOW_WATER_BYTES) {
      pipe.from.resume();
      pipe.pausedSource = false;
    }
  }

  /** Drops everything queued in `pipe` (its destination is gone, or the bytes fell into a blackhole). */
  #discard(pipe: Pipe): void {
    clearTimer(pipe);
    pipe.queue.length = 0;
    pipe.queuedBytes = 0;
    this.#applyBackpressure(pipe);
  }

  #tearDown(connection: Connection, how: 'reset' | 'destroy'): void {
    connection.tornDown = true;
    this.#forget(connection);
    for (const socket of [connection.client, connection.upstream]) {
      if (how === 'reset') reset(socket);
      else socket.destroy();
    }
  }

  #forget(connection: Connection): void {
    for (const pipe of connection.pipes) this.#discard(pipe);
    this.#connections.delete(connection);
  }

  #bucketFor(direction: Direction): TokenBucket | undefined {
    const rate = this.#bandwidth[direction];
    if (rate === undefined) return undefined;
    return new TokenBucket(rate, Math.min(MAX_BURST_BYTES, Math.max(1, Math.round(rate * BURST_SECONDS))));
  }

  *#pipes(): Iterable<Pipe> {
    for (const connection of this.#connections) yield* connection.pipes;
  }
}

function expand(direction: Directions): Direction[] {
  return direction === 'both' ? ['downstream', 'upstream'] : [direction];
}

function clearTimer(pipe: Pipe): void {
  clearTimeout(pipe.timer);
  pipe.timer = undefined;
}

function reset(socket: Socket): void {
  // resetAndDestroy on a destroyed socket would emit ERR_SOCKET_CLOSED instead of doing nothing.
  if (!socket.destroyed) socket.resetAndDestroy();
}

function assertNonNegative(what: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`FaultProxy: ${what} must be a non-negative number, got ${value}`);
  }
}

function ignore(): void {
  // Deliberately empty: see the callers.
}
