import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/** Decides whether the hop at an address is a proxy whose X-Forwarded-For may be believed. */
export type TrustedProxies = (address: string, hop: number) => boolean;

/**
 * The proxies whose `X-Forwarded-For` is believed (TRUSTED_PROXIES): addresses and CIDR blocks,
 * IPv4 or IPv6, compiled by `proxy-addr` (the module Express uses for `trust proxy`). Throws on
 * an entry that is neither, naming it.
 */
export function parseTrustedProxies(entries: readonly string[]): TrustedProxies {
  for (const entry of entries) {
    try {
      proxyaddr.compile(entry);
    } catch {
      throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR block`);
    }
  }
  return proxyaddr.compile([...entries]);
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The address of the client behind a request: the TCP peer, unless it is a trusted proxy; then
 * `X-Forwarded-For` is read from the right (each trusted proxy appends the address it saw),
 * skipping trusted hops, and the first address not trusted is the client. A header sent by an
 * untrusted peer is never read, so a client cannot choose its own address. A hop that is not an
 * address at all cannot be believed: the peer is used instead.
 */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  // No address once the socket is gone (a client that reset during its upgrade): proxy-addr
  // then answers undefined, which must not throw in the upgrade handler.
  const peer = normalize(req.socket.remoteAddress ?? '');
  if (peer === '') return peer;
  const client = (proxyaddr(req, trusted) as string | undefined)?.trim() ?? '';
  return isIP(client) === 0 ? peer : normalize(client);
}
