/**
 * Version of the wire protocol spoken between clients and edges. A client sends it in the
 * handshake; an edge refuses versions it does not speak with `unsupported_protocol`.
 */
export const PROTOCOL_VERSION = 1;
