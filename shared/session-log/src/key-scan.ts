import type { Redis } from 'ioredis';
import { isClusterLink, type CommandLink } from './redis-clients.js';

/**
 * One SCAN step over a deployment's keys. A server has one keyspace and one cursor. A Redis
 * Cluster has one keyspace per master: the cursor is then `<master>:<cursor>`, the masters
 * taken in address order, each scanned to its end before the next. A scan that spans a
 * failover or a slot move may miss or repeat keys, as SCAN may; its callers (sweeps, listings)
 * go round again.
 */
export async function scanKeys(
  link: CommandLink,
  cursor: string,
  match: string,
  count: number,
): Promise<[next: string, keys: string[]]> {
  if (!isClusterLink(link)) return link.scan(cursor, 'MATCH', match, 'COUNT', count);
  const masters = link.nodes('master').sort((a, b) => addressOf(a).localeCompare(addressOf(b)));
  const [indexText, nodeCursor] = cursor === '0' ? ['0', '0'] : cursor.split(':');
  const index = Number(indexText);
  const node = masters[index];
  if (!node || nodeCursor === undefined) return ['0', []];
  const [next, keys] = await node.scan(nodeCursor, 'MATCH', match, 'COUNT', count);
  if (next !== '0') return [`${index}:${next}`, keys];
  return [index + 1 < masters.length ? `${index + 1}:0` : '0', keys];
}

function addressOf(node: Redis): string {
  return `${node.options.host ?? ''}:${node.options.port ?? 0}`;
}
