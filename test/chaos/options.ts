import { randomSeed } from '@holdfast/testing';
import { BLACKHOLE_LINKS, type BlackholeLink } from './redis-link-faults.js';
import { CLUSTER_FAULT_KINDS, FAULT_KINDS, type FaultKind } from './schedule.js';

export type ProfileName = 'short' | 'long';

/** What the services run on: one redis-server (the compose setting) or a local Redis Cluster. */
export const TOPOLOGIES = ['standalone', 'redis-cluster'] as const;
export type TopologyName = (typeof TOPOLOGIES)[number];

export interface ChaosOptions {
  readonly profile: ProfileName;
  readonly topology: TopologyName;
  readonly seed: number;
  /** How long faults are injected under load (the data-loss phases and the final drain come after). */
  readonly chaosMs: number;
  readonly sessions: number;
  /** Every session's producer appends one message this often (± half). */
  readonly publishEveryMs: number;
  /** Every session's client sends one inbound prompt this often (± half). */
  readonly sendEveryMs: number;
  /** Share of clients whose handler is slow (tens of ms per message). */
  readonly slowShare: number;
  /** Share of clients that stop handling for a while, then continue. */
  readonly stallShare: number;
  /** The kinds of fault each round fires (all of them unless --faults narrows it). */
  readonly faultKinds: readonly FaultKind[];
  /**
   * Whose Redis link `redis_link_blackhole` cuts: `edge` (the busiest edge's, what clients
   * feel), `other` (a worker's or the API's), or `any` (the seed picks either, half and half).
   */
  readonly blackholeLink: BlackholeLink;
  /** Share of the sessions the producer side completes during the run (see completions.ts). */
  readonly completeShare: number;
  /** Quiet time between two faults, [min, max] ms. */
  readonly faultGapMs: readonly [number, number];
  /** Redis restarted with `everysec` and without persistence, losing data, after the chaos phase. */
  readonly lossPhases: boolean;
  /**
   * The workers re-submit inbox runs lost with Redis data (their inbox sweep). Off only to see what
   * it repairs: the inbox census then shows the orphaned inboxes.
   */
  readonly inboxSweep: boolean;
  /** Every session must reach its head within this long once load stops. */
  readonly drainTimeoutMs: number;
  readonly progressEveryMs: number;
  readonly reportPath: string;
  /** Print every line the cluster processes write. */
  readonly verbose: boolean;
}

const PROFILES: Record<
  ProfileName,
  Omit<
    ChaosOptions,
    'profile' | 'topology' | 'seed' | 'reportPath' | 'verbose' | 'faultKinds' | 'inboxSweep' | 'blackholeLink'
  >
> = {
  // About 2.5 minutes in all on a 2-core machine: start-up ~15 s, one round of every fault
  // (~60 s), the two data-loss phases ~30 s, the drain a few seconds.
  short: {
    chaosMs: 45_000,
    sessions: 200,
    publishEveryMs: 800,
    sendEveryMs: 6_000,
    slowShare: 0.1,
    stallShare: 0.05,
    completeShare: 0.15,
    faultGapMs: [1_500, 3_000],
    lossPhases: true,
    drainTimeoutMs: 60_000,
    progressEveryMs: 5_000,
  },
  long: {
    chaosMs: 30 * 60_000,
    sessions: 300,
    publishEveryMs: 800,
    // Two workers on a shared 2-core host answer about 70 prompts a second: stay well below,
    // so a backlog means something is stuck, not that the workers are behind.
    sendEveryMs: 12_000,
    slowShare: 0.1,
    stallShare: 0.05,
    completeShare: 0.15,
    faultGapMs: [3_000, 10_000],
    lossPhases: true,
    drainTimeoutMs: 300_000,
    progressEveryMs: 10_000,
  },
};

export const USAGE = `npm run chaos -- [options]

  --profile short|long   short (default): ~2.5 minutes, every kind of fault at least once (CI);
                         long: random faults for --duration
  --topology standalone|redis-cluster
                         standalone (default): one redis-server, as compose runs it;
                         redis-cluster: a local Redis Cluster (3 masters + 3 replicas), the
                         faults ${CLUSTER_FAULT_KINDS.join(', ')}
                         and no data-loss phases (a master kill loses data instead)
  --duration 90s|30m|1h  how long faults are injected (short: 45s, but at least one round; long: 30m)
  --seed N               replay the fault schedule of an earlier run (printed at start)
  --sessions N           sessions under load (short: 200, long: 300)
  --faults K1,K2,...     only these kinds of fault (to chase one finding), of the topology's:
                         ${FAULT_KINDS.join(', ')}
  --blackhole-link edge|other|any
                         whose Redis link redis_link_blackhole cuts: the busiest edge's, a
                         worker's or the API's, or either as the seed picks (default any)
  --complete-share F     share of sessions the producer side completes during the run
                         (default 0.15; 0 for none)
  --no-loss-phases       skip the Redis restarts with everysec / without persistence
  --no-inbox-sweep       workers do not re-submit inbox runs lost with Redis data (to see what
                         the sweep repairs; the run then fails on orphaned inboxes)
  --report PATH          JSON report (default test-artifacts/chaos-report.json)
  --verbose              print every line the cluster processes write
`;

/** Parses `process.argv.slice(2)`; throws an Error naming the bad argument. */
export function parseOptions(argv: readonly string[]): ChaosOptions {
  const args = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'\n\n${USAGE}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (['no-loss-phases', 'no-inbox-sweep', 'verbose', 'help'].includes(name)) {
      args.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value\n\n${USAGE}`);
    args.set(name, value);
  }
  if (args.has('help')) throw new Error(USAGE);
  const known = [
    'profile',
    'topology',
    'duration',
    'seed',
    'sessions',
    'faults',
    'blackhole-link',
    'complete-share',
    'no-loss-phases',
    'no-inbox-sweep',
    'report',
    'verbose',
  ];
  for (const name of args.keys()) {
    if (!known.includes(name)) throw new Error(`unknown option --${name}\n\n${USAGE}`);
  }

  const profileArg = str(args.get('profile')) ?? 'short';
  if (profileArg !== 'short' && profileArg !== 'long') {
    throw new Error(`--profile must be short or long, got '${profileArg}'`);
  }
  const profile = PROFILES[profileArg];
  const topology = str(args.get('topology')) ?? 'standalone';
  if (!(TOPOLOGIES as readonly string[]).includes(topology)) {
    throw new Error(`--topology must be one of ${TOPOLOGIES.join(', ')}, got '${topology}'`);
  }
  const onCluster = topology === 'redis-cluster';
  const kindsOfTopology = defaultFaultKinds(topology as TopologyName);
  const duration = str(args.get('duration'));
  const seed = str(args.get('seed'));
  const sessions = str(args.get('sessions'));
  const faults = str(args.get('faults'));
  const blackholeLink = str(args.get('blackhole-link')) ?? 'any';
  if (!(BLACKHOLE_LINKS as readonly string[]).includes(blackholeLink)) {
    throw new Error(`--blackhole-link must be one of ${BLACKHOLE_LINKS.join(', ')}, got '${blackholeLink}'`);
  }
  const completeShare = str(args.get('complete-share'));
  return {
    ...profile,
    profile: profileArg,
    topology: topology as TopologyName,
    seed: seed === undefined ? randomSeed() : integer('--seed', seed, 0),
    chaosMs: duration === undefined ? profile.chaosMs : parseDuration(duration),
    sessions: sessions === undefined ? profile.sessions : integer('--sessions', sessions, 1),
    faultKinds: faults === undefined ? kindsOfTopology : faultKinds(faults, kindsOfTopology),
    blackholeLink: blackholeLink as BlackholeLink,
    completeShare:
      completeShare === undefined ? profile.completeShare : share('--complete-share', completeShare),
    // The data-loss phases restart one redis-server with other settings: no cluster counterpart.
    lossPhases: !onCluster && !args.has('no-loss-phases'),
    inboxSweep: !args.has('no-inbox-sweep'),
    reportPath: str(args.get('report')) ?? 'test-artifacts/chaos-report.json',
    verbose: args.has('verbose'),
  };
}

/** Every kind of fault a round fires on `topology`. */
export function defaultFaultKinds(topology: TopologyName): readonly FaultKind[] {
  return topology === 'redis-cluster' ? CLUSTER_FAULT_KINDS : FAULT_KINDS;
}

function faultKinds(text: string, allowed: readonly FaultKind[]): FaultKind[] {
  const kinds = text.split(',').map((k) => k.trim());
  for (const kind of kinds) {
    if (!(allowed as readonly string[]).includes(kind)) {
      throw new Error(`--faults: '${kind}' is not a fault of this topology; kinds: ${allowed.join(', ')}`);
    }
  }
  return kinds as FaultKind[];
}

/** `90s`, `30m`, `1h`, `1500ms` or plain milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration: expected e.g. 90s, 30m or 1h, got '${text}'`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  const ms = Math.round(Number(match[1]) * unit);
  if (ms < 10_000) throw new Error(`--duration: at least 10s, got '${text}'`);
  return ms;
}

function integer(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    throw new Error(`${name} must be an integer >= ${min}, got '${text}'`);
  return n;
}

function share(name: string, text: string): number {
  const n = Number(text);
  if (!(n >= 0 && n <= 1)) throw new Error(`${name} must be a number from 0 to 1, got '${text}'`);
  return n;
}

function str(value: string | true | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
