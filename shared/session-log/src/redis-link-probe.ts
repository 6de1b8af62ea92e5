/**
 * What the probe needs of a connection: ioredis's own, the one BullMQ opened, or a whole
 * cluster seen as one link (cluster-probe.ts).
 */
export interface ProbedConnection {
  readonly status: string;
  ping(): Promise<unknown>;
  disconnect(reconnect?: boolean): void;
  on(event: 'ready', listener: () => void): unknown;
}

export interface LinkProbeOptions {
  /** A PING is sent this often. @default 1000 */
  intervalMs?: number;
  /** A PING unanswered after this long is a miss. @default 2000 */
  timeoutMs?: number;
  /** Consecutive misses that declare the link dead. @default 2 */
  misses?: number;
}

export type ResolvedLinkProbeOptions = Required<LinkProbeOptions>;

export const DEFAULT_LINK_PROBE: ResolvedLinkProbeOptions = { intervalMs: 1000, timeoutMs: 2000, misses: 2 };

/**
 * Worst time from a link going silent to the probe declaring it dead: the last answered PING
 * may have been sent just before the silence, the next one goes out an interval later and
 * needs its deadline to miss, then each further miss is one interval behind.
 */
export function linkProbeBound(options: ResolvedLinkProbeOptions): number {
  return options.timeoutMs + options.misses * options.intervalMs;
}

/**
 * Notices a Redis link that is silently dead. A half-open TCP link (partition, crashed NAT)
 * forwards nothing and closes nothing: ioredis keeps status `ready` and queues commands for
 * ever. Only a command with its own deadline notices: this sends PING every interval and
 * counts replies later than the deadline. One slow PING (Redis busy, the PING queued behind a
 * large pipeline on the same connection) is not enough: it takes `misses` in a row, and any
 * answer resets the count. On death it drops the socket and lets ioredis reconnect, so
 * commands in flight fail now rather than at their timeout, and the link stays not-alive until
 * a PING is answered again on the new socket.
 */
export class RedisLinkProbe {
  private readonly options: ResolvedLinkProbeOptions;
  private readonly timer: NodeJS.Timeout;
  private consecutiveMisses = 0;
  private dead = false;
  private generation = 0;
  /** The generation (socket) whose PING was last answered in time; -1 before any. */
  private answeredGeneration = -1;
  private handshakeSince: number | undefined;

  constructor(
    private readonly redis: ProbedConnection,
    options: LinkProbeOptions = {},
    private readonly onDead: () => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_LINK_PROBE, ...options };
    // A new socket starts with a clean slate; it is alive once a PING on it is answered.
    redis.on('ready', () => {
      this.generation += 1;
      this.consecutiveMisses = 0;
      this.probe();
    });
    this.timer = setInterval(() => this.probe(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Connected, and the last PINGs were answered within their deadline. */
  get alive(): boolean {
    return this.redis.status === 'ready' && !this.dead;
  }

  /**
   * Alive, and a PING on the current socket has been answered: unlike `alive`, false for a new
   * socket that has yet to prove the link carries bytes (one with no ready check is `ready` at
   * once, even over a dead link).
   */
  get answered(): boolean {
    return this.alive && this.answeredGeneration === this.generation;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private probe(): void {
    if (this.redis.status !== 'ready') {
      this.watchHandshake();
      return;
    }
    this.handshakeSince = undefined;
    const generation = this.generation;
    let settled = false;
    const deadline = setTimeout(() => {
      if (settled || generation !== this.generation) return;
      settled = true;
      this.miss();
    }, this.options.timeoutMs);
    deadline.unref();
    // PING is valid in subscriber mode too (RESP2 answers it there as ['pong', '']).
    this.redis.ping().then(
      () => {
        clearTimeout(deadline);
        if (settled || generation !== this.generation) return;
        settled = true;
        this.consecutiveMisses = 0;
        this.dead = false;
        this.answeredGeneration = generation;
      },
      () => {
        // Failed rather than late: the connection closed, and ioredis knows already.
        clearTimeout(deadline);
        settled = true;
      },
    );
  }

  /**
   * A new socket through a silent link connects (TCP) but its ready check is never answered,
   * and ioredis waits for it with no deadline: give it the same budget as a dead link.
   */
  private watchHandshake(): void {
    if (this.redis.status !== 'connect') {
      this.handshakeSince = undefined;
      return;
    }
    const now = Date.now();
    this.handshakeSince ??= now;
    if (now - this.handshakeSince < linkProbeBound(this.options)) return;
    this.handshakeSince = undefined;
    this.redis.disconnect(true);
  }

  private miss(): void {
    this.consecutiveMisses += 1;
    if (this.consecutiveMisses < this.options.misses || this.dead) return;
    this.dead = true;
    this.onDead();
    // Reconnect: in-flight commands fail now; 'ready' on the new socket resets the count.
    this.redis.disconnect(true);
  }
}
