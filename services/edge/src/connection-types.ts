/**
 * Types shared by the edge's connection modules (the typed socket, what a handshake attaches,
 * what a session connection is given): declarations only, so the modules that need them do
 * not import each other for a type.
 */
import type { Socket } from 'socket.io';
import type { Logger } from '@holdfast/config';
import type {
  ClientToServerEvents,
  LogPosition,
  ServerToClientEvents,
  SizeLimits,
  StartFrom,
} from '@holdfast/protocol';
import type { ConsumerLeases, Inbox, LiveSubscriptions, OutboundLog } from '@holdfast/session-log';
import type { ConnectionCounter } from './connection-counter.js';
import type { WindowLimits } from './flow-window.js';
import type { EdgeLeaseRenewer } from './lease-fencing.js';
import type { EdgeMetrics } from './metrics.js';
import type { TokenExpiryWheel } from './token-lifetime.js';
import type { SessionConnection } from './session-connection.js';

export type EdgeSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/**
 * What the edge may do to a session, and nothing more: read, ack and watch its outbound log,
 * hold a consumer lease, and hand inbound messages to its inbox. Never append, complete or
 * delete; those are the back end's (API, producer) and the workers'. Each module takes the
 * narrowest part of it it needs.
 */
export type EdgeSessionLog = Pick<OutboundLog, 'infoAndRead' | 'read' | 'ack' | 'keys'> &
  Pick<ConsumerLeases, 'claimLease' | 'renewLease' | 'renewLeases' | 'releaseLease'> &
  Pick<Inbox, 'enqueueInbound'>;

/** A handshake that was verified and whose consumer lease was claimed. */
export interface AcceptedHandshake {
  readonly sessionId: string;
  readonly consumerId: string;
  readonly tokenExpiresAt: number;
  readonly position: LogPosition | StartFrom | undefined;
  readonly leaseGeneration: number;
  /** The protocol version the client speaks. */
  readonly protocolVersion: number;
}

export interface ConnectionDeps {
  readonly log: EdgeSessionLog;
  readonly live: LiveSubscriptions;
  readonly window: WindowLimits;
  /** Told to clients in `hello`, so they refuse an oversize send instead of sending it. */
  readonly limits: SizeLimits;
  /** Keeps every connection's consumer lease confirmed, in one round per edge. */
  readonly leases: EdgeLeaseRenewer;
  /** Every connection's token expiry, and the `token` refreshes that move it. */
  readonly tokens: TokenExpiryWheel;
  readonly onClosed: (connection: SessionConnection) => void;
  /** Session connections per session on this edge: a connection gives its count back as it ends. */
  readonly perSession: Pick<ConnectionCounter, 'release'>;
  readonly metrics: EdgeMetrics;
  /** The edge's logger; each connection logs through a child carrying its session. */
  readonly logger: Logger;
  /** Schedule the inbox run that will hand an accepted inbound message to a worker. */
  readonly submitInboxRun: (sessionId: string, generation: number) => Promise<void>;
  readonly eventsPerSecond: number;
  readonly eventsBurst: number;
  /**
   * Runs a catch-up read when one of the edge's few read slots is free (see REPLAY_READS_IN_FLIGHT
   * in edge-server.ts), so replays cannot starve handshakes and acks on the shared connection.
   */
  readonly readSlot: <T>(read: () => Promise<T>) => Promise<T>;
}
