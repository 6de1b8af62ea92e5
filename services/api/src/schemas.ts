import { z } from 'zod';
import { MAX_TOKEN_TTL_SECONDS } from '@holdfast/auth';
import {
  CONSUMER_ID_MAX_LENGTH,
  CONSUMER_ID_PATTERN,
  ErrorCode,
  MESSAGE_ID_MAX_LENGTH,
  MESSAGE_ID_PATTERN,
  SESSION_ID_MAX_LENGTH,
  SESSION_ID_PATTERN,
} from '@holdfast/protocol';
import { ApiErrorCode } from './api-errors.js';

/**
 * Request and response schemas of the HTTP API. Identifier rules are the protocol's
 * (`@holdfast/protocol` identifiers.ts), spelled as JSON Schema patterns for the OpenAPI document.
 */

/** Most messages the session log takes in one batch (its `maxBatchMessages` default). */
const MAX_BATCH_MESSAGES = 1000;
/** Most messages one read returns (the session log's limit). */
const MAX_READ_LIMIT = 10_000;

const safeInt = (min: number) => z.number().int().min(min);

export const sessionIdSchema = z
  .string()
  .min(1)
  .max(SESSION_ID_MAX_LENGTH)
  .regex(SESSION_ID_PATTERN)
  .meta({ description: 'Session id: 1-64 characters of A-Z a-z 0-9 _ -.', examples: ['chat-42'] });

export const consumerIdSchema = z
  .string()
  .min(1)
  .max(CONSUMER_ID_MAX_LENGTH)
  .regex(CONSUMER_ID_PATTERN)
  .meta({
    description:
      'Consumer the token is for: 1-64 characters of A-Z a-z 0-9 _ -. The edge uses `default` when a token names none.',
  });

export const messageIdSchema = z.string().min(1).max(MESSAGE_ID_MAX_LENGTH).regex(MESSAGE_ID_PATTERN).meta({
  description:
    'Message id (1-128 characters of A-Z a-z 0-9 _ . -): a message repeating an id seen within the dedupe window (5 minutes) is not written again; its original offset is returned.',
});

const jsonValue = z.unknown().meta({ description: 'Any JSON value (at most 256 KiB as UTF-8 JSON).' });

export const sessionPathSchema = z.strictObject({ sessionId: sessionIdSchema });

export const createSessionBodySchema = z
  .strictObject({
    sessionId: sessionIdSchema
      .optional()
      .meta({ description: 'Generated (22 URL-safe random characters) when absent.' }),
    consumerId: consumerIdSchema.optional(),
    retention: z
      .strictObject({
        maxMessages: safeInt(0)
          .optional()
          .meta({ description: 'Most messages kept; 0 = no limit. Default 100000.' }),
        maxAgeMs: safeInt(0)
          .optional()
          .meta({ description: 'Oldest message kept, in ms; 0 = no limit. Default 24 h.' }),
      })
      .optional(),
    idleTtlMs: safeInt(0).optional().meta({
      description:
        'Delete the session after this long without an append, ack or connection; 0 disables. Default 24 h.',
    }),
    completedRetentionMs: safeInt(1).optional().meta({
      description:
        'How long the session stays readable once completed (POST …/complete); activity after completion does not extend it. Default: the API’s COMPLETED_RETENTION_MS (24 h).',
    }),
    tokenTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_TOKEN_TTL_SECONDS)
      .optional()
      .meta({ description: 'Lifetime of the returned client token. Default 3600.' }),
  })
  .default({});

export const createSessionResponseSchema = z.object({
  sessionId: sessionIdSchema,
  epoch: z.string(),
  token: z.string().meta({ description: 'Client token (JWT) for the edge handshake.' }),
  tokenExpiresAt: z.number().int().meta({ description: 'Epoch milliseconds.' }),
});

export const issueTokenBodySchema = z
  .strictObject({
    consumerId: consumerIdSchema.optional(),
    ttlSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_TOKEN_TTL_SECONDS)
      .optional()
      .meta({ description: 'Default 3600.' }),
  })
  .default({});

export const tokenResponseSchema = z.object({
  token: z.string(),
  tokenExpiresAt: z.number().int().meta({ description: 'Epoch milliseconds.' }),
});

export const idempotencyHeadersSchema = z.object({
  'idempotency-key': messageIdSchema.optional().meta({
    description:
      'Makes the publish idempotent: a single message gets the key as its id, message i of a batch gets `<key>.<i>` (unless it has its own id). Retry with the same key and the same body shape.',
  }),
});

const messageSchema = z.strictObject({ data: jsonValue, id: messageIdSchema.optional() });

export const publishBodySchema = z
  .strictObject({
    data: jsonValue.optional(),
    id: messageIdSchema.optional(),
    messages: z
      .array(messageSchema)
      .meta({
        minItems: 1,
        maxItems: MAX_BATCH_MESSAGES,
        description: 'A batch: appended in order, all or none.',
      })
      .optional(),
  })
  .superRefine((body, ctx) => {
    // JSON has no undefined: a present `data` (null included) is never undefined.
    const single = body.data !== undefined;
    const batch = body.messages !== undefined;
    if (single === batch) {
      ctx.addIssue({
        code: 'custom',
        message: 'give either `data` (one message) or `messages` (a batch), not both',
      });
    } else if (batch && body.id !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'in a batch, ids go on each message: `messages[i].id`' });
    }
  })
  .meta({ oneOf: [{ required: ['data'] }, { required: ['messages'] }] });

export const publishResponseSchema = z.object({
  epoch: z.string(),
  offsets: z.array(z.number().int()).meta({ description: 'Offset of each message, in order.' }),
  duplicates: z.array(z.boolean()).meta({
    description: 'Per message: true when its id was seen within the dedupe window and nothing was written.',
  }),
});

export const sessionInfoResponseSchema = z.object({
  sessionId: sessionIdSchema,
  epoch: z.string(),
  head: z.number().int().meta({ description: 'Last offset written.' }),
  firstAvailable: z.number().int().meta({ description: 'Oldest offset retained (head + 1 when none is).' }),
  length: z.number().int().meta({ description: 'Messages currently retained.' }),
  acks: z.record(z.string(), z.number().int()).meta({ description: 'Acknowledged offset per consumer id.' }),
  connected: z.record(z.string(), z.boolean()).meta({
    description:
      "Per consumer that has connected: whether a connection of it is open now (a crashed edge's connection counts until its lease runs out).",
  }),
  retention: z.object({ maxMessages: z.number().int(), maxAgeMs: z.number().int() }),
  idleTtlMs: z.number().int(),
  createdAt: z.number().int().meta({ description: 'Epoch milliseconds.' }),
  lastActiveAt: z
    .number()
    .int()
    .meta({ description: 'Epoch milliseconds of the last append, ack or connection.' }),
  durable: z
    .boolean()
    .meta({ description: 'True when every write of this epoch was made by a Redis that cannot lose it.' }),
  completedAt: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'Epoch milliseconds of the completion; null while the session is open.' }),
  finalOffset: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'Last message offset of a completed session; null while it is open.' }),
});

export const completeSessionBodySchema = z
  .strictObject({
    completedRetentionMs: safeInt(1).optional().meta({
      description:
        "How long the session stays readable from now; default the session's own (set at create), else the API's. Ignored when the session is already completed.",
    }),
  })
  .default({});

export const completeSessionResponseSchema = z.object({
  finalOffset: z
    .number()
    .int()
    .meta({ description: 'Last message offset; every message up to it is delivered, then `complete`.' }),
  epoch: z.string(),
  completedAt: z.number().int().meta({ description: 'Epoch milliseconds of the completion.' }),
});

export const readQuerySchema = z.strictObject({
  from: z.coerce
    .number()
    .int()
    .min(0)
    .default(1)
    .meta({ description: 'First offset to return (inclusive); 0 reads from the start like 1.' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_READ_LIMIT)
    .default(100)
    .meta({ description: 'Most messages to return (also capped near 1 MiB of data).' }),
});

export const readResponseSchema = z.object({
  epoch: z.string(),
  head: z.number().int(),
  firstAvailable: z.number().int(),
  trimmed: z.boolean().meta({
    description: 'True when `from` is older than retention kept: messages start at `firstAvailable`.',
  }),
  finalOffset: z
    .number()
    .int()
    .optional()
    .meta({ description: 'Present once the session is completed: no message will follow this offset.' }),
  messages: z.array(z.object({ offset: z.number().int(), data: jsonValue })),
});

export const healthResponseSchema = z.object({ status: z.literal('ok') });
export const readyResponseSchema = z.object({ status: z.literal('ready') });
export const openApiResponseSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: 'OpenAPI 3.1 document.' });

const allCodes = [...Object.values(ErrorCode), ...Object.values(ApiErrorCode)] as [string, ...string[]];

export const errorBodySchema = z.object({
  code: z.enum(allCodes).meta({ description: 'Stable, machine-readable; branch on it, never on `message`.' }),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
