import { resolveOptions, type ConnectOptions } from './options.js';
import { HoldfastSession } from './session.js';

/**
 * Opens a durable session on one of `urlOrUrls` (tried in turn on every attempt) and keeps it
 * open until `close()` or a code that says stop. Attach listeners right away (in the same tick):
 * the first connection starts once the position store has loaded.
 *
 * Throws `HoldfastClientError` (`invalid_options`) for a missing or out-of-range option.
 */
export function connect<T = unknown>(
  urlOrUrls: string | readonly string[],
  options: ConnectOptions,
): HoldfastSession<T> {
  return new HoldfastSession<T>(resolveOptions(urlOrUrls, options));
}
