/**
 * Why it exists: a live token refresh is a client event like the others, so its payload is read
 * by the protocol. The token itself is left for @holdfast/auth's verifier, which answers a
 * missing or malformed one with `token_missing` or `token_invalid`: one set of token messages,
 * whether the token came in the handshake's refresh or an API call.
 */

/** The token a `token` event carries, unchecked (anything but an object carries none). */
export function validateTokenRefresh(payload: unknown): { readonly token: unknown } {
  const token =
    typeof payload === 'object' && payload !== null ? (payload as { token?: unknown }).token : undefined;
  return { token };
}
