/**
 * Version of the wire protocol spoken between clients and edges. A client sends it in the
 * handshake; an edge refuses versions it does not speak with `unsupported_protocol`.
 */
export const PROTOCOL_VERSION = 4;

/**
 * Older versions an edge still accepts. Version 1 has no `complete` event: a v1 client is sent
 * `session_ended` after the final message of a completed session instead. Versions 1 and 2 have
 * no `start` field: their clients ask for the oldest message with a position in an epoch no log
 * has (the SDK sent `~start`), which the edge answers as any unknown epoch, with a `reset`.
 * Versions 1 to 3 have no `instance` and `attempt` fields: their claims are ordered only by
 * when they reach Redis, so a late attempt of the same client can fence a newer one.
 */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1, 2, 3, 4];

/** The first version whose handshake may carry `start: 'oldest'`. */
export const EXPLICIT_START_SINCE_VERSION = 3;

/**
 * The first version whose handshake may carry `instance` and `attempt`: the client's own order
 * of its connection attempts, so a late, older attempt never fences a newer one of the same
 * client (see `ConnectionAttempt`).
 */
export const ATTEMPT_ORDER_SINCE_VERSION = 4;
