/**
 * Version of the wire protocol spoken between clients and edges. A client sends it in the
 * handshake; an edge refuses versions it does not speak with `unsupported_protocol`.
 */
export const PROTOCOL_VERSION = 2;

/**
 * Older versions an edge still accepts. Version 1 has no `complete` event: a v1 client is sent
 * `session_ended` after the final message of a completed session instead.
 */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1, 2];
