/**
 * A fresh random id of `A-Z a-z 0-9 -` only (valid as a message id and as a client instance
 * id): a UUID where `crypto.randomUUID` exists, else 32 characters of random base-36.
 */
export function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  let id = Date.now().toString(36);
  while (id.length < 32) id += Math.random().toString(36).slice(2);
  return id.slice(0, 32);
}
