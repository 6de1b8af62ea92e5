import type { ChainableCommander } from 'ioredis';
import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { clusterSlotOf } from './cluster-slot.js';
import { isClusterLink, type CommandLink } from './redis-clients.js';
import { toHoldfastError } from './redis-errors.js';
import { replicationTimeout, type ReplicationWait } from './replication-wait.js';
import { checkReply } from './script-errors.js';
import type { ScriptRunner } from './script-runner.js';
import { queueScript, type ScriptName, type ScriptReply } from './scripts.js';

/** One script call to make. Its first key decides the slot (every key of a call shares it). */
export interface ScriptInvocation {
  readonly name: ScriptName;
  readonly keys: string[];
  readonly args: Array<string | number>;
}

/**
 * A script's reply, and, when its write is not known to be on enough replicas, why (a WAIT
 * that fell short or failed). The reply's own status still decides first: a write the script
 * refused (session ended, say) is reported as that, not as a replication problem.
 */
export interface ReplicatedReply {
  readonly reply: unknown;
  readonly unreplicated: HoldfastError | undefined;
}

type Settled = [Error | null, unknown];

/**
 * Run script calls and `WAIT <replicas> <timeoutMs>` after them, on the connection that ran
 * them. WAIT counts the replicas that have everything its connection wrote so far, so one WAIT
 * per connection covers every call written before it: a flush of many calls pays one WAIT per
 * Redis node, not one per message.
 *
 * On a Redis Cluster the calls are grouped by the master their slot maps to, and each group is
 * one ioredis pipeline ending with the WAIT: a pipeline goes to one node whole (ioredis picks
 * the node for its first command and sends the rest there), so the WAIT lands where the scripts
 * ran. When the map was stale the node answers the scripts with MOVED (or ASK) and still
 * answers the WAIT; ioredis then neither retries the pipeline nor refreshes its map (the WAIT
 * succeeded), so this does both: the map is refreshed, and the call fails retryably with
 * nothing written, never counted as a success.
 *
 * Returns one promise per invocation, in order; it rejects when the script itself failed.
 */
export function runReplicated(
  redis: CommandLink,
  invocations: readonly ScriptInvocation[],
  wait: ReplicationWait,
): Array<Promise<ReplicatedReply>> {
  const byNode = new Map<string, number[]>();
  const cluster = isClusterLink(redis) ? redis : undefined;
  invocations.forEach((invocation, i) => {
    const slot = cluster ? clusterSlotOf(invocation.keys[0] ?? '') : 0;
    // Before the cluster client knows its slot map, group by slot: ioredis waits for the map.
    const node = cluster ? (cluster.slots[slot]?.[0] ?? `slot ${slot}`) : '';
    const group = byNode.get(node);
    if (group) group.push(i);
    else byNode.set(node, [i]);
  });
  const results = new Array<Promise<ReplicatedReply>>(invocations.length);
  for (const indexes of byNode.values()) {
    const group = runGroup(
      redis,
      indexes.map((i) => invocations[i] as ScriptInvocation),
      wait,
    );
    indexes.forEach((invocationIndex, k) => {
      results[invocationIndex] = group
        .then((outcomes) => outcomes[k] as Settled)
        .then(([error, reply]) => (error ? Promise.reject(error) : (reply as ReplicatedReply)));
    });
  }
  return results;
}

/**
 * Run one writing script (create, complete) through the runner, and with the deployment's
 * replication wait when it has one: its reply checked as `ScriptRunner.run` does, then
 * `replication_timeout` when too few replicas confirmed it.
 */
export async function runWritten(
  runner: ScriptRunner,
  sessionId: string,
  name: ScriptName,
  keys: string[],
  args: Array<string | number>,
): Promise<ScriptReply> {
  const wait = runner.options.replicationWait;
  if (!wait) return runner.run(sessionId, name, keys, args);
  let outcome: ReplicatedReply;
  try {
    outcome = await (runReplicated(
      runner.redis,
      [{ name, keys, args }],
      wait,
    )[0] as Promise<ReplicatedReply>);
  } catch (error) {
    throw toHoldfastError(error);
  }
  const reply = checkReply(outcome.reply, sessionId);
  if (outcome.unreplicated) throw outcome.unreplicated;
  return reply;
}

/** One pipeline: the calls of one node, then their WAIT. */
async function runGroup(
  redis: CommandLink,
  invocations: readonly ScriptInvocation[],
  wait: ReplicationWait,
): Promise<Settled[]> {
  const pipeline: ChainableCommander = redis.pipeline();
  const settled = invocations.map(() => false);
  invocations.forEach((invocation, i) =>
    queueScript(pipeline, invocation.name, invocation.keys, invocation.args, () => {
      settled[i] = true;
    }),
  );
  // A script whose EVALSHA met NOSCRIPT (after a SCRIPT FLUSH) is resent by ioredis after the
  // WAIT already went out, so the WAIT does not cover it. Its reply cannot arrive before the
  // next I/O poll, while every reply read with the WAIT's has settled once the microtasks of
  // that read have run: a check on the next setImmediate tells the two apart.
  let coveredBeforeWait: boolean[] = [];
  const waitChecked = new Promise<void>((resolve) => {
    pipeline.wait(wait.replicas, wait.timeoutMs, () =>
      setImmediate(() => {
        coveredBeforeWait = [...settled];
        resolve();
      }),
    );
  });
  let replies: Array<[Error | null, unknown]> | null;
  try {
    [replies] = await Promise.all([pipeline.exec(), waitChecked]);
  } catch (error) {
    const failure = toHoldfastError(error);
    return invocations.map(() => [failure, undefined]);
  }
  if (!replies || replies.length !== invocations.length + 1) {
    const failure = new HoldfastError(ErrorCode.RedisUnavailable, 'the pipeline returned no reply');
    return invocations.map(() => [failure, undefined]);
  }
  const [waitError, confirmed] = replies[invocations.length] as [Error | null, unknown];
  const shortfall = waitError
    ? toHoldfastError(waitError)
    : Number(confirmed) < wait.replicas
      ? replicationTimeout(Number(confirmed), wait)
      : undefined;
  return invocations.map((_, i): Settled => {
    const [error, reply] = replies[i] as [Error | null, unknown];
    if (error) return [scriptFailure(redis, error), undefined];
    const unreplicated =
      shortfall ??
      (coveredBeforeWait[i] === true
        ? undefined
        : new HoldfastError(
            ErrorCode.ReplicationTimeout,
            'the script was resent after its WAIT (NOSCRIPT), so no replica is known to have it; it may be in the log: retry with the same message id',
          ));
    return [null, { reply: reply as ScriptReply, unreplicated }];
  });
}

/**
 * A script that failed inside a pipeline. A redirection means the client's slot map is stale:
 * refresh it (ioredis does not when the pipeline's WAIT succeeded) so the retry goes right.
 */
function scriptFailure(redis: CommandLink, error: Error): HoldfastError {
  if (isClusterLink(redis) && /^(MOVED|ASK) /.test(error.message)) {
    redis.refreshSlotsCache();
    return new HoldfastError(
      ErrorCode.RedisUnavailable,
      `the session's slot is served by another node (${error.message}); nothing was written: retry`,
      { cause: error },
    );
  }
  return toHoldfastError(error);
}
