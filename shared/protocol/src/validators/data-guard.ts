/**
 * Why it exists: a `send`'s data is stored and later handed to workers that merge and
 * stringify it, so the protocol decides once what data a client may send (the edge calls this
 * through validateSend; the HTTP API refuses the same keys).
 */
/** Deeper than this, a client's message is refused: recursive code (JSON.stringify among it) would overflow its stack. */
export const MAX_DATA_DEPTH = 64;

/**
 * Why a client's `send` data must not be stored, or undefined when it may. The data arrives
 * from Socket.IO's parser, so besides JSON it can hold binary attachments (a BINARY_EVENT's
 * placeholders turned into Buffers) and keys that poison prototypes in whoever merges it later
 * (`__proto__`, `constructor.prototype`: the HTTP API refuses the same keys). Walked with an
 * explicit stack, so a hostile nesting depth cannot overflow this check either.
 */
export function unsafeDataReason(data: unknown): string | undefined {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: data, depth: 0 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, depth } = next;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DATA_DEPTH) return `data is nested deeper than ${MAX_DATA_DEPTH} levels`;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      return 'data must be JSON: binary attachments are not accepted';
    }
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key === '__proto__') return 'data has a "__proto__" key';
      if (key === 'constructor' && typeof item === 'object' && item !== null && 'prototype' in item) {
        return 'data has a "constructor.prototype" key';
      }
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  return undefined;
}
