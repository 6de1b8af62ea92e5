import { ErrorCode, type SizeLimits } from '@holdfast/protocol';
import { HoldfastClientError } from './client-error.js';

/**
 * The limits assumed until an edge's `hello` says otherwise (or when an older edge sends none):
 * the edge's own defaults (session log `maxPayloadBytes` 256 KiB, `MAX_FRAME_BYTES` 1 MiB).
 */
export const DEFAULT_SIZE_LIMITS: SizeLimits = { maxPayloadBytes: 256 * 1024, maxFrameBytes: 1024 * 1024 };

/**
 * Socket.IO's framing around a `send` (packet type, event name, ack id, the `{ id, data }`
 * keys): generous, so a message the client lets through never trips the frame limit.
 */
const FRAME_OVERHEAD_BYTES = 512;

const encoder = new TextEncoder();

/**
 * Why the edge would refuse this message for its size, or undefined if it fits. Refusing here
 * matters above the frame limit: the edge cannot answer such a frame, it closes the transport,
 * and a resend after the reconnect would be closed again, for ever.
 */
export function oversize(id: string, data: unknown, limits: SizeLimits): HoldfastClientError | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch {
    return undefined; // not JSON at all: the edge's answer (invalid_payload) says so
  }
  if (json === undefined) return undefined;
  const bytes = encoder.encode(json).length;
  if (bytes > limits.maxPayloadBytes) {
    return tooLarge(`message is ${bytes} bytes as JSON; the limit is ${limits.maxPayloadBytes}`);
  }
  const frame = bytes + encoder.encode(id).length + FRAME_OVERHEAD_BYTES;
  if (frame > limits.maxFrameBytes) {
    return tooLarge(`message needs a ${frame}-byte frame; the edge's limit is ${limits.maxFrameBytes}`);
  }
  return undefined;
}

function tooLarge(message: string): HoldfastClientError {
  return new HoldfastClientError(ErrorCode.PayloadTooLarge, message, { action: 'stop' });
}

/** The limits a `hello` announced, sanity-checked (a malformed field falls back to the default). */
export function limitsFrom(announced: unknown): SizeLimits {
  const given = (typeof announced === 'object' && announced !== null ? announced : {}) as Partial<SizeLimits>;
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
  return {
    maxPayloadBytes: valid(given.maxPayloadBytes)
      ? given.maxPayloadBytes
      : DEFAULT_SIZE_LIMITS.maxPayloadBytes,
    maxFrameBytes: valid(given.maxFrameBytes) ? given.maxFrameBytes : DEFAULT_SIZE_LIMITS.maxFrameBytes,
  };
}
