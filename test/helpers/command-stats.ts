import type { RedisServer } from '@holdfast/testing';

/** Calls per command the server has run since its last RESETSTAT (INFO commandstats), by name. */
export async function commandCalls(server: RedisServer): Promise<(name: string) => number> {
  const stats = await server.client().info('commandstats');
  return (name) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

/** Script calls (EVALSHA and EVAL) the server has run since its last RESETSTAT. */
export async function scriptCalls(server: RedisServer): Promise<number> {
  const calls = await commandCalls(server);
  return calls('evalsha') + calls('eval');
}

/**
 * Counts the script calls the server runs from now on. With the server in cluster mode, every
 * call having succeeded also shows that none mixed slots (CROSSSLOT would have refused it), so
 * the count alone tells how calls were split. (MONITOR would show each call's keys, but ioredis
 * can fail with "Command queue state error" when monitored commands arrive with MONITOR's own
 * reply: seen in CI.)
 */
export async function countScriptCalls(server: RedisServer): Promise<() => Promise<number>> {
  await server.client().config('RESETSTAT');
  return () => scriptCalls(server);
}
