import { z } from 'zod';
import {
  booleanFlag,
  csv,
  sharedLogConfig,
  sharedLogFields,
  inboundQueuesField,
  keyPrefix,
  type SharedLogConfig,
  logLevelField,
  nonNegativeInt,
  parseEnv,
  port,
  positiveInt,
  redisProbeFields,
  redisUrl,
} from '@holdfast/config';
import type { LogLevel } from '@holdfast/config';
import { parseTrustedProxies } from './client-address.js';

/**
 * The edge's configuration, read from environment variables and validated once at start-up:
 * a bad value stops the process with a message naming the variable.
 */
export const edgeEnvSchema = z
  .object({
    PORT: port.default(8080),
    HOST: z.string().default('0.0.0.0'),
    /**
     * Connections the kernel queues for the edge before it accepts them (capped by
     * net.core.somaxconn). Node's default, 511, overflows in a reconnect storm (every client of
     * a lost edge at once): the overflowing clients' handshakes are dropped and retried by
     * their TCP stack a second later, which was most of a 1,000-client resume in the bench.
     */
    LISTEN_BACKLOG: positiveInt.default(4096),
    REDIS_URL: redisUrl,
    HOLDFAST_KEY_PREFIX: keyPrefix,
    ...sharedLogFields,
    ...inboundQueuesField,
    ...redisProbeFields,
    /** Shared secrets for HS256 tokens (comma-separated: all verify, for rotation). */
    TOKEN_HS256_SECRETS: csv.optional(),
    /** SPKI PEM public key for RS256/ES256/EdDSA tokens (with TOKEN_PUBLIC_KEY_ALG). */
    TOKEN_PUBLIC_KEY: z.string().optional(),
    TOKEN_PUBLIC_KEY_ALG: z.enum(['RS256', 'ES256', 'EdDSA']).optional(),
    TOKEN_AUDIENCE: z.string().default('holdfast'),
    TOKEN_ISSUER: z.string().optional(),
    /** Origins allowed to open a WebSocket (comma-separated); `*` allows any. */
    ALLOWED_ORIGINS: csv.default(['*']),
    /** Clients that send no Origin header (non-browser clients) are let in unless this is false. */
    ALLOW_MISSING_ORIGIN: booleanFlag.default(true),
    WINDOW_MESSAGES: positiveInt.default(1000),
    WINDOW_BYTES: positiveInt.default(128 * 1024),
    PING_INTERVAL_MS: positiveInt.default(10_000),
    PING_TIMEOUT_MS: positiveInt.default(20_000),
    /** How long a connection may deliver without confirming it still holds its consumer's lease. */
    LEASE_MS: positiveInt.default(15_000),
    /** Clients are told to move at random moments spread over this window, to avoid a storm. */
    DRAIN_SPREAD_MS: z.coerce.number().int().min(0).default(5_000),
    /** SIGTERM to exit: connections still open then are closed anyway. */
    DRAIN_TIMEOUT_MS: positiveInt.default(20_000),
    /** Largest Socket.IO frame; above the session log's payload limit so app errors answer first. */
    MAX_FRAME_BYTES: positiveInt.default(1024 * 1024),
    /**
     * Longest time from TCP connect to an accepted session handshake: HTTP headers (slowloris)
     * and an Engine.IO connection that never joins the namespace are cut off after it.
     */
    HANDSHAKE_TIMEOUT_MS: positiveInt.default(10_000),
    /**
     * Proxies (addresses, CIDR blocks) whose X-Forwarded-For names the client; from anyone else
     * the header is ignored and the TCP peer is the client.
     */
    TRUSTED_PROXIES: csv.default([]).superRefine((entries, ctx) => {
      try {
        parseTrustedProxies(entries);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
    /** Concurrent WebSocket connections per client address on this edge (0 = no limit). */
    MAX_CONNECTIONS_PER_IP: nonNegativeInt.default(2000),
    /** Concurrent session connections per session on this edge, across its consumers (0 = no limit). */
    MAX_CONNECTIONS_PER_SESSION: nonNegativeInt.default(100),
    /** Client events (acks, sends, token refreshes) per second per connection, and the burst. */
    EVENTS_PER_SECOND: positiveInt.default(200),
    EVENTS_BURST: positiveInt.default(400),
    /** New inbound messages per second per session, across all edges (0 = no limit). */
    INBOUND_SESSION_RATE: z.coerce.number().int().min(0).default(50),
    /**
     * A secret that lets an operator drain this edge over HTTP (`POST /admin/drain`, as the ops
     * CLI's `edges drain` does); unset, the route is off and only SIGTERM drains.
     */
    EDGE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    ...logLevelField,
  })
  .refine((env) => env.TOKEN_HS256_SECRETS?.length || env.TOKEN_PUBLIC_KEY, {
    message:
      'set TOKEN_HS256_SECRETS or TOKEN_PUBLIC_KEY (with TOKEN_PUBLIC_KEY_ALG) so tokens can be verified',
    path: ['TOKEN_HS256_SECRETS'],
  })
  .refine((env) => !env.TOKEN_PUBLIC_KEY || env.TOKEN_PUBLIC_KEY_ALG, {
    message: 'TOKEN_PUBLIC_KEY needs TOKEN_PUBLIC_KEY_ALG (RS256, ES256 or EdDSA)',
    path: ['TOKEN_PUBLIC_KEY_ALG'],
  });

export type EdgeEnv = z.infer<typeof edgeEnvSchema>;

export interface EdgeConfig {
  port: number;
  host: string;
  listenBacklog: number;
  redisUrl: string;
  keyPrefix: string;
  /** The session log settings every process shares (HOLDFAST_PARTITIONS, HOLDFAST_OLD_LAYOUT, HOLDFAST_REPLICATION_WAIT). */
  sharedLog: SharedLogConfig;
  /** Inbound queues the inbox runs are spread over (HOLDFAST_INBOUND_QUEUES; as the workers'). */
  inboundQueues: number;
  redisProbe: { intervalMs: number; timeoutMs: number };
  token: {
    hs256Secrets: string[];
    publicKeys: Array<{ algorithm: 'RS256' | 'ES256' | 'EdDSA'; publicKey: string }>;
    audience: string;
    issuer: string | undefined;
  };
  allowedOrigins: string[];
  allowMissingOrigin: boolean;
  window: { messages: number; bytes: number };
  pingIntervalMs: number;
  pingTimeoutMs: number;
  leaseMs: number;
  drainSpreadMs: number;
  drainTimeoutMs: number;
  maxFrameBytes: number;
  handshakeTimeoutMs: number;
  trustedProxies: string[];
  maxConnectionsPerIp: number;
  maxConnectionsPerSession: number;
  eventsPerSecond: number;
  eventsBurst: number;
  inboundSessionRate: number;
  logLevel: LogLevel;
  /** Authorizes `POST /admin/drain`; undefined turns the route off. */
  adminToken: string | undefined;
}

/** Parse the environment; throws one Error listing every bad variable by name. */
export function loadEdgeConfig(env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  const e = parseEnv(edgeEnvSchema, env, 'edge');
  return {
    port: e.PORT,
    host: e.HOST,
    listenBacklog: e.LISTEN_BACKLOG,
    redisUrl: e.REDIS_URL,
    keyPrefix: e.HOLDFAST_KEY_PREFIX,
    sharedLog: sharedLogConfig(e),
    inboundQueues: e.HOLDFAST_INBOUND_QUEUES,
    redisProbe: { intervalMs: e.REDIS_PROBE_INTERVAL_MS, timeoutMs: e.REDIS_PROBE_TIMEOUT_MS },
    token: {
      hs256Secrets: e.TOKEN_HS256_SECRETS ?? [],
      publicKeys:
        e.TOKEN_PUBLIC_KEY && e.TOKEN_PUBLIC_KEY_ALG
          ? [{ algorithm: e.TOKEN_PUBLIC_KEY_ALG, publicKey: e.TOKEN_PUBLIC_KEY.replace(/\\n/g, '\n') }]
          : [],
      audience: e.TOKEN_AUDIENCE,
      issuer: e.TOKEN_ISSUER,
    },
    allowedOrigins: e.ALLOWED_ORIGINS,
    allowMissingOrigin: e.ALLOW_MISSING_ORIGIN,
    window: { messages: e.WINDOW_MESSAGES, bytes: e.WINDOW_BYTES },
    pingIntervalMs: e.PING_INTERVAL_MS,
    pingTimeoutMs: e.PING_TIMEOUT_MS,
    leaseMs: e.LEASE_MS,
    drainSpreadMs: e.DRAIN_SPREAD_MS,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    maxFrameBytes: e.MAX_FRAME_BYTES,
    handshakeTimeoutMs: e.HANDSHAKE_TIMEOUT_MS,
    trustedProxies: e.TRUSTED_PROXIES,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    maxConnectionsPerSession: e.MAX_CONNECTIONS_PER_SESSION,
    eventsPerSecond: e.EVENTS_PER_SECOND,
    eventsBurst: e.EVENTS_BURST,
    inboundSessionRate: e.INBOUND_SESSION_RATE,
    logLevel: e.LOG_LEVEL,
    adminToken: e.EDGE_ADMIN_TOKEN,
  };
}
