/**
 * Accepting a Socket.IO handshake: refuse while draining, validate `auth` (the protocol's
 * validator), verify the token, count the session's connections on this edge, claim the
 * consumer's lease (replacing its previous holder; never for a client that already left) and
 * attach what was accepted to the socket. A refusal becomes a `connect_error` with
 * `{ code, message, retryAfterMs? }`.
 */
import type { ExtendedError } from 'socket.io';
import type { TokenVerifier } from '@holdfast/auth';
import {
  DEFAULT_CONSUMER_ID,
  ErrorCode,
  HoldfastError,
  isHoldfastError,
  validateHandshakeAuth,
  type ConnectErrorData,
} from '@holdfast/protocol';
import type { ConsumerLeases } from '@holdfast/session-log';
import type { EdgeConfig } from './config.js';
import type { ConnectionCounter } from './connection-counter.js';
import type { AcceptedHandshake, EdgeSocket } from './connection-types.js';
import { DRAIN_RETRY_AFTER_MS } from './edge-shutdown.js';
import type { EdgeMetrics } from './metrics.js';
import { CONNECTION_LIMIT_RETRY_AFTER_MS } from './upgrade-gate.js';

/** What a socket carries from its accepted handshake to its session connection. */
export interface SocketData {
  accepted?: AcceptedHandshake;
  /** Gives the session's count back, until its session connection takes that over. */
  releaseCount?: (() => void) | undefined;
}

export interface HandshakeContext {
  readonly config: Pick<EdgeConfig, 'maxConnectionsPerSession' | 'leaseMs'>;
  readonly log: Pick<ConsumerLeases, 'claimLease'>;
  readonly verifier: TokenVerifier;
  /** Session connections per session on this edge. */
  readonly perSession: ConnectionCounter;
  readonly metrics: EdgeMetrics;
  isDraining(): boolean;
  /** Close the consumer's previous connection, wherever it is. */
  replaceHolder(holder: string): void;
}

/** The consumer a verified token names, or the default one. */
export function consumerOf(tokenConsumerId: string | undefined): string {
  return tokenConsumerId ?? DEFAULT_CONSUMER_ID;
}

/** Socket.IO middleware body: `next()` to accept, `next(error)` to refuse. */
export async function acceptHandshake(
  context: HandshakeContext,
  socket: EdgeSocket,
  next: (err?: ExtendedError) => void,
): Promise<void> {
  const { config, perSession } = context;
  let counted: string | undefined;
  try {
    if (context.isDraining()) {
      throw new HoldfastError(
        ErrorCode.ServerDraining,
        'this edge is shutting down; connect to another one',
        {
          details: { retryAfterMs: DRAIN_RETRY_AFTER_MS },
        },
      );
    }
    const handshake = validateHandshakeAuth(socket.handshake.auth);
    const verified = await context.verifier.verify(handshake.token, { sessionId: handshake.sessionId });
    const consumerId = consumerOf(verified.consumerId);
    // Only verified handshakes count, so nobody without a token can lock a session out.
    if (!perSession.tryAcquire(handshake.sessionId, config.maxConnectionsPerSession)) {
      throw new HoldfastError(
        ErrorCode.TooManyConnections,
        `session ${handshake.sessionId} holds ${config.maxConnectionsPerSession} connections to this edge already`,
        { details: { retryAfterMs: CONNECTION_LIMIT_RETRY_AFTER_MS } },
      );
    }
    counted = handshake.sessionId;
    // The claim fences every older connection of the consumer, so it must be the client's
    // newest attempt. A handshake whose transport closed while it waited (token checks run on
    // the thread pool; a quicker next attempt of the same client may be accepted first) was
    // given up by its client: claiming for it would fence that next attempt, and the client
    // would be told `replaced` by its own reconnection. Nothing is awaited between this check
    // and queueing the claim; an edge's claims are sent in queue order (with the others of
    // the same event-loop turn, claim-n.lua) on one Redis connection, so on one edge claims
    // keep the order of the checks.
    // Across edges that order is not kept: an edge that has not yet seen the client leave (a
    // stall, a half-open link) can claim after the client's next attempt was accepted
    // elsewhere. The client's own attempt number settles that: the claim of an older attempt
    // than its instance's newest fails with `superseded` and fences nobody (lib-session.lua hf_claim).
    if (clientLeft(socket)) throw new AbandonedHandshake();
    const lease = await context.log.claimLease(
      handshake.sessionId,
      consumerId,
      socket.id,
      config.leaseMs,
      handshake.attempt,
    );
    if (lease.previousHolder) context.replaceHolder(lease.previousHolder);
    // Verified and no longer needed: the raw token (a few hundred bytes) would otherwise stay in
    // the socket's handshake for the connection's whole life.
    (socket.handshake.auth as { token?: unknown }).token = undefined;
    (socket.data as SocketData).accepted = {
      sessionId: handshake.sessionId,
      consumerId,
      tokenExpiresAt: verified.expiresAt,
      position: handshake.position,
      leaseGeneration: lease.generation,
      protocolVersion: handshake.version,
    };
    // Released once: when its transport closes (the transport may already be gone: the client
    // left during the handshake), or, once a session connection took it over (handOverCount),
    // when that connection ends. Heard from the transport rather than the Engine.IO connection
    // (they close together): see handshake-deadline.ts for why.
    const sessionId = handshake.sessionId;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      perSession.release(sessionId);
    };
    (socket.data as SocketData).releaseCount = release;
    socket.conn.transport.once('close', release);
    if (socket.conn.readyState === 'closed') release();
    counted = undefined;
    next();
  } catch (error) {
    if (counted !== undefined) perSession.release(counted);
    if (error instanceof AbandonedHandshake) {
      // Nobody is left to tell: not a refusal.
      context.metrics.handshakesAbandoned.inc();
      next(error);
      return;
    }
    const rejection = connectError(error);
    const { code } = rejection.data as ConnectErrorData;
    context.metrics.handshakeRejections.inc({ code });
    const auth = socket.handshake.auth as { position?: unknown } | undefined;
    if (auth?.position !== undefined) context.metrics.resumes.inc({ outcome: 'refused', reason: code });
    next(rejection);
  }
}

/**
 * A session connection now gives the session's count back when it ends (it ends on the socket's
 * disconnect, as the transport closing brings): the transport listener and its closure go, so
 * an open connection keeps nothing on the heap for the count.
 */
export function handOverCount(socket: EdgeSocket): void {
  const data = socket.data as SocketData;
  const release = data.releaseCount;
  if (!release) return;
  data.releaseCount = undefined;
  socket.conn.transport.off('close', release);
}

/** The transport is closed or closing: the client reset it or gave up on this attempt. */
function clientLeft(socket: EdgeSocket): boolean {
  return socket.conn.readyState !== 'open';
}

/** The client left during the handshake, before its lease was claimed. */
class AbandonedHandshake extends Error {
  constructor() {
    super('the client left before its handshake was accepted');
  }
}

function connectError(error: unknown): ExtendedError {
  const e = isHoldfastError(error)
    ? error
    : new HoldfastError(ErrorCode.RedisUnavailable, 'the edge could not accept the connection; retry');
  const retryAfterMs = e.details?.retryAfterMs;
  const data: ConnectErrorData = {
    code: e.code,
    message: e.message,
    ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
  };
  const err = new Error(e.code) as ExtendedError;
  err.data = data;
  return err;
}
