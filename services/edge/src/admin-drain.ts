/**
 * Remote drain: `POST /admin/drain` with `Authorization: Bearer <EDGE_ADMIN_TOKEN>` starts the
 * same drain SIGTERM does (the ops CLI's `edges drain`). Off unless the token is configured;
 * HAProxy never forwards /admin from the internet (deploy/haproxy.cfg). The answer comes before
 * the drain starts, so the caller learns it was accepted even though the edge then goes away.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const ADMIN_DRAIN_PATH = '/admin/drain';

export interface DrainAnswer {
  readonly status: number;
  readonly body: { readonly code?: string; readonly message?: string; readonly status?: string };
  /** True when the caller should start the drain after answering. */
  readonly drain: boolean;
}

/** How the edge answers a drain request, given its admin token and whether it already drains. */
export function answerDrainRequest(
  req: IncomingMessage,
  adminToken: string | undefined,
  draining: boolean,
): DrainAnswer {
  if (adminToken === undefined) {
    return refuse(404, 'not_found', 'remote drain is off on this edge: set EDGE_ADMIN_TOKEN to enable it');
  }
  if (req.method !== 'POST') return refuse(405, 'method_not_allowed', `use POST ${ADMIN_DRAIN_PATH}`);
  const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (presented === undefined || !sameSecret(presented, adminToken)) {
    return refuse(401, 'unauthorized', 'a drain needs Authorization: Bearer <EDGE_ADMIN_TOKEN>');
  }
  // A second request finds the drain under way: accepted again, started once.
  return { status: 202, body: { status: 'draining' }, drain: !draining };
}

function refuse(status: number, code: string, message: string): DrainAnswer {
  return { status, body: { code, message }, drain: false };
}

/** Constant-time comparison; hashing first makes the lengths equal and hides the real one. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
