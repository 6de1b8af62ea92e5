/**
 * Types shared by the edge's connection modules (the typed socket, what a handshake attaches,
 * what a session connection is given): declarations only, so the modules that need them do
 * not import each other for a type.
 */
import type { Socket } from 'socket.io';
import type { Logger } from '@holdfast/config';
import type { ClientToServerEvents, LogPosition, ServerToClientEvents, SizeLimits } from '@holdfast/protocol';
import type { LiveSubscriptions, SessionLog } from '@holdfast/session-log';
import type { WindowLimits } from './flow-window.js';
import type { EdgeMetrics } from './metrics.js';
import type { SessionConnection } from './session-connection.js';

export type EdgeSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

/** A handshake that was verified and whose consumer lease was claimed. */
export interface AcceptedHandshake {
  readonly sessionId: string;
  readonly consumerId: string;
  readonly tokenExpiresAt: number;
  readonly position: LogPosition | undefined;
  readonly leaseGeneration: number;
  /** The protocol version the client speaks. */
  readonly protocolVersion: number;
}

export interface ConnectionDeps {
  readonly log: SessionLog;
  readonly live: LiveSubscriptions;
  readonly window: WindowLimits;
  /** Told to clients in `hello`, so they refuse an oversize send instead of sending it. */
  readonly limits: SizeLimits;
  readonly leaseMs: number;
  /** Verify a refreshed token for this session; resolves to its consumer and expiry. */
  readonly verifyToken: (
    token: unknown,
    sessionId: string,
  ) => Promise<{ consumerId: string; expiresAt: number }>;
  readonly onClosed: (connection: SessionConnection) => void;
  readonly metrics: EdgeMetrics;
  /** The edge's logger; each connection logs through a child carrying its session. */
  readonly logger: Logger;
  /** Schedule the drain that will hand an accepted inbound message to a worker. */
  readonly submitDrain: (sessionId: string, generation: number) => Promise<void>;
  readonly eventsPerSecond: number;
  readonly eventsBurst: number;
  /**
   * Runs a catch-up read when one of the edge's few read slots is free (see REPLAY_READS_IN_FLIGHT
   * in edge-server.ts), so replays cannot starve handshakes and acks on the shared connection.
   */
  readonly readSlot: <T>(read: () => Promise<T>) => Promise<T>;
}
