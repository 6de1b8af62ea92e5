import { networkReason } from './api-client.js';

/** What an edge says of itself on /readyz (or that it did not answer). */
export interface EdgeStatus {
  readonly url: string;
  /** It answered at all. */
  readonly alive: boolean;
  /** It accepts new connections: Redis reachable and not draining. */
  readonly ready: boolean;
  readonly draining: boolean | null;
  /** Its Redis links (log and pub/sub) pass their liveness probes. */
  readonly redis: boolean | null;
  /** Session connections open on it. */
  readonly connections: number | null;
  /** Why it is not alive. */
  readonly error: string | null;
}

interface ReadyzBody {
  status?: unknown;
  draining?: unknown;
  redis?: unknown;
  connections?: unknown;
}

/** Ask one edge's /readyz (200 ready, 503 not ready, both with the same JSON body). */
export async function probeEdge(url: string, timeoutMs: number): Promise<EdgeStatus> {
  const down = (error: string): EdgeStatus => ({
    url,
    alive: false,
    ready: false,
    draining: null,
    redis: null,
    connections: null,
    error,
  });
  let response: Response;
  try {
    response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return down(networkReason(error, timeoutMs));
  }
  let body: ReadyzBody;
  try {
    body = (await response.json()) as ReadyzBody;
  } catch {
    return down(`HTTP ${response.status} without a Holdfast edge's JSON: is this an edge?`);
  }
  if (typeof body.draining !== 'boolean' || typeof body.connections !== 'number') {
    return down(`HTTP ${response.status}: not a Holdfast edge's /readyz answer`);
  }
  return {
    url,
    alive: true,
    ready: response.status === 200 && body.status === 'ready',
    draining: body.draining,
    redis: typeof body.redis === 'boolean' ? body.redis : null,
    connections: body.connections,
    error: null,
  };
}
