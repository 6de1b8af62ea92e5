import type { ServiceProcess } from '@holdfast/testing';
import { sleep } from './sleep.js';
import type { RedisLink, Topology } from './topology.js';

/**
 * Faults on the links between the services and Redis: each service process reaches Redis
 * through its own fault proxy (see topology.ts), so one service's link can be slowed, choked,
 * cut off silently or reset while the others, and Redis itself, stay healthy.
 */
export const REDIS_LINK_FAULT_KINDS = [
  'redis_link_latency',
  'redis_link_throttle',
  'redis_link_blackhole',
  'redis_link_reset',
] as const;
export type RedisLinkFaultKind = (typeof REDIS_LINK_FAULT_KINDS)[number];

/** Whose link a blackhole cuts (`--blackhole-link`): `any` lets the seeded target choose. */
export const BLACKHOLE_LINKS = ['any', 'edge', 'other'] as const;
export type BlackholeLink = (typeof BLACKHOLE_LINKS)[number];

/** Added latency: a base of 6–15 ms ± 5 ms of jitter, so each chunk waits 1–20 ms. */
const LATENCY_BASE_MS = [6, 15] as const;
const LATENCY_JITTER_MS = 5;
const LATENCY_HOLD_MS = 6_000;
/**
 * A choked link: 32 KiB/s each way per connection, far below what an edge's or a worker's
 * traffic needs (hundreds of sessions), so commands queue behind each other and time out.
 */
const THROTTLE_BYTES_PER_SECOND = 32 * 1024;
const THROTTLE_HOLD_MS = 5_000;
/**
 * A half-open link held longer than the services' Redis probe bound (~5 s): 8–12 s. Nothing
 * closes; every command sent into it waits for an answer that never comes.
 */
const BLACKHOLE_MS = [8_000, 12_000] as const;
/** After a reset, new connections are refused this long (the link flaps once). */
const RESET_REFUSE_MS = 500;

/** Injects one Redis-link fault and returns once the link is healthy again; says what it did. */
export async function injectRedisLinkFault(
  topology: Topology,
  kind: RedisLinkFaultKind,
  target: number,
  busiestEdge: () => Promise<ServiceProcess>,
  blackholeLink: BlackholeLink = 'any',
): Promise<string> {
  const links = topology.redisLinks;
  switch (kind) {
    case 'redis_link_latency': {
      // Every link at once, each with its own delay: a slow network between the services and Redis.
      const delays = links.map((link, i) => {
        const base = LATENCY_BASE_MS[0] + ((target + 7 * i) % (LATENCY_BASE_MS[1] - LATENCY_BASE_MS[0] + 1));
        link.proxy.setLatency(base, LATENCY_JITTER_MS);
        return `${link.name} ${base}±${LATENCY_JITTER_MS}`;
      });
      await sleep(LATENCY_HOLD_MS);
      for (const link of links) link.proxy.restore();
      return `Redis links delayed for ${LATENCY_HOLD_MS} ms (ms: ${delays.join(', ')})`;
    }
    case 'redis_link_throttle': {
      const link = links[target % links.length]!;
      link.proxy.setBandwidth(THROTTLE_BYTES_PER_SECOND, 'both');
      await sleep(THROTTLE_HOLD_MS);
      link.proxy.restore();
      return `${link.name}'s Redis link throttled to ${THROTTLE_BYTES_PER_SECOND / 1024} KiB/s each way for ${THROTTLE_HOLD_MS} ms`;
    }
    case 'redis_link_blackhole': {
      // Half the time the link of the edge holding the most clients (the case clients feel),
      // otherwise a worker's or the API's; --blackhole-link steers it to one of the two.
      const onEdge = blackholeLink === 'any' ? target % 2 === 0 : blackholeLink === 'edge';
      const link = onEdge ? linkOf(links, (await busiestEdge()).name) : otherLink(links, target);
      const holdMs = BLACKHOLE_MS[0] + (target % (BLACKHOLE_MS[1] - BLACKHOLE_MS[0] + 1));
      link.proxy.blackhole('both');
      await sleep(holdMs);
      endBlackhole(link);
      return `${link.name}'s Redis link half-open (blackhole) for ${holdMs} ms, then its connections reset`;
    }
    case 'redis_link_reset': {
      const link = links[target % links.length]!;
      const connections = link.proxy.connectionCount;
      await link.proxy.cut(RESET_REFUSE_MS);
      return `${link.name}'s Redis link: ${connections} connections reset, new ones refused for ${RESET_REFUSE_MS} ms`;
    }
  }
}

/**
 * Ends a blackhole the way a dead link ends: its connections are gone (a TCP peer whose
 * retransmissions went unanswered gives up). Restoring them instead would splice later bytes
 * onto a stream with a hole in it, which no real network does. New connections are refused
 * while the old ones are reset, so none slips in half-blackholed.
 */
function endBlackhole(link: RedisLink): void {
  link.proxy.refuseNew(true);
  link.proxy.resetAll();
  link.proxy.restore();
  link.proxy.refuseNew(false);
}

/** After a fault that failed half-way: every Redis link healthy again. */
export function healRedisLinks(topology: Topology): void {
  for (const link of topology.redisLinks) endBlackhole(link);
}

function linkOf(links: readonly RedisLink[], name: string): RedisLink {
  const link = links.find((l) => l.name === name);
  if (!link) throw new Error(`no Redis link for ${name}`);
  return link;
}

function otherLink(links: readonly RedisLink[], target: number): RedisLink {
  const others = links.filter((l) => !l.name.startsWith('edge-'));
  return others[Math.floor(target / 2) % others.length]!;
}
