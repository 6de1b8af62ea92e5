import { randomFillSync } from 'node:crypto';

const EPOCH_BYTES = 12;
/** Epochs drawn per refill: one system call for this many script calls. */
const POOL_EPOCHS = 256;

const pool = Buffer.alloc(EPOCH_BYTES * POOL_EPOCHS);
let next = POOL_EPOCHS;

/**
 * A fresh epoch id: 96 random bits, URL-safe. Every script that applies the epoch rule takes
 * one as its candidate (used only if the log was lost), so one is drawn per append, ack and
 * read call; they come from a pool refilled by one `randomFillSync`, since a call into the
 * kernel per script call showed as 2–8 % of the edge's and producers' CPU.
 */
export function newEpoch(): string {
  if (next === POOL_EPOCHS) {
    randomFillSync(pool);
    next = 0;
  }
  const start = next * EPOCH_BYTES;
  next += 1;
  return pool.toString('base64url', start, start + EPOCH_BYTES);
}
