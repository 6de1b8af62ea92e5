import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * The proxies whose `X-Forwarded-For` is believed (TRUSTED_PROXIES): addresses and CIDR blocks,
 * IPv4 or IPv6. Throws on an entry that is neither, naming it.
 */
export function parseTrustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (bits !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > maxBits || prefix === ''))
    ) {
      throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR block`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function normalize(address: string): string {
  const trimmed = address.trim();
  return trimmed.startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
}

function isTrusted(address: string, trusted: BlockList): boolean {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The address of the client behind a request. The TCP peer is the client unless it is a trusted
 * proxy; then `X-Forwarded-For` is read from the right (each trusted proxy appends the address it
 * saw), skipping trusted hops, and the first address not trusted is the client. A header sent by
 * an untrusted peer is never read, so a client cannot choose its own address.
 */
export function clientAddress(req: IncomingMessage, trusted: BlockList): string {
  const peer = normalize(req.socket.remoteAddress ?? '');
  if (!isTrusted(peer, trusted)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map(normalize)
    .filter((hop) => hop.length > 0);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? '';
    if (isIP(hop) === 0) break; // a malformed hop: what is left of it cannot be believed
    client = hop;
    if (!isTrusted(hop, trusted)) break;
  }
  return client;
}
