export const DEFAULT_AUDIENCE = 'holdfast';
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
export const MAX_TOKEN_TTL_SECONDS = 86_400 * 30;
/** HS256 keys shorter than the hash output weaken it (RFC 7518 section 3.2). */
export const MIN_HS256_SECRET_BYTES = 32;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/** More tolerance than this would quietly extend every token's lifetime. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;
/**
 * Real tokens are a few hundred bytes. Refusing longer ones before decoding bounds the work
 * an unauthenticated client can cause, and keeps tokens well inside URL and header limits.
 */
export const MAX_TOKEN_LENGTH = 8192;
