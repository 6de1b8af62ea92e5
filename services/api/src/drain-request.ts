import type { IncomingMessage } from 'node:http';

/** At most this much of a refused body is read and dropped before answering; beyond it the connection closes. */
export const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
/** A refused body that takes longer than this to arrive is not waited for. */
export const MAX_DRAIN_MS = 10_000;

/**
 * Reads and drops what is left of a request body the API refused without reading (a 413 on
 * its Content-Length, a 401 before the body). Answering first and letting Node close the
 * connection under a client still writing its body makes that client fail with EPIPE/ECONNRESET
 * before it reads the answer (Node's own `fetch`, undici, does); reading the rest first lets it
 * see the status and `{ code, message }`. Bounded, so a huge or trickling body cannot hold the
 * connection: past either bound the old behaviour (close) applies.
 */
export function drainRequest(
  raw: IncomingMessage,
  maxBytes = MAX_DRAIN_BYTES,
  maxMs = MAX_DRAIN_MS,
): Promise<void> {
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = (): void => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('close', done);
      raw.off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    const timer = setTimeout(done, maxMs);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('close', done);
    raw.once('error', done);
    raw.resume();
  });
}
