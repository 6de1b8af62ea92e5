import { BENCHMARKS, PROFILES, type BenchmarkName, type Profile } from './profiles.js';
import {
  DEFAULT_LOAD_CLIENT,
  isLoadClientKind,
  LOAD_CLIENT_KINDS,
  type LoadClientKind,
} from './load/load-socket.js';

export interface CliOptions {
  readonly profile: Profile;
  readonly only: readonly BenchmarkName[];
  /** Where the JSON results go. */
  readonly out: string | undefined;
  /**
   * Pin processes to cores with taskset: 'auto' (the default) pins only on a quiet machine
   * (1-minute load average below 1), since on a busy one pinning keeps the scheduler from
   * moving our processes away from other work and makes figures worse, not steadier.
   */
  readonly pin: 'auto' | boolean;
  /** Run the Holdfast edges with --cpu-prof, profiles written to this directory. */
  readonly cpuProfDir: string | undefined;
  readonly quiet: boolean;
  /**
   * Run Holdfast from its TypeScript sources instead of building dist/ first and running that
   * (what production runs; the default).
   */
  readonly source: boolean;
  /**
   * What the load clients connect with, for every system alike: `raw` (Engine.IO/Socket.IO
   * framing over ws, bench/load/raw-socket.ts) or `socket.io-client`.
   * @default 'raw'
   */
  readonly loadClient: LoadClientKind;
  /**
   * Record per-message stages in token-streams too (unicast-latency always does): a diagnosis
   * run, since the trace costs the producer and edge CPU and so lowers the sessions sustained.
   */
  readonly traceStages: boolean;
}

export const USAGE = `npm run bench -- [--profile quick|full] [--only <bench>[,<bench>]] [--out file.json]
                   [--sessions <n>[,<n>]]   (unicast sessions, instead of the profile's)
                   [--resume-sessions <n>]  (resume-storm clients, instead of the profile's)
                   [--pin | --no-pin] [--cpu-prof <dir>] [--source] [--quiet]
                   [--trace-stages]   (token-streams with the per-stage trace, for diagnosis)
                   [--load-client ${LOAD_CLIENT_KINDS.join('|')}]   (default ${DEFAULT_LOAD_CLIENT})
benchmarks: ${BENCHMARKS.join(', ')}`;

/** Parse the command line; throws an Error naming the bad argument. */
export function parseCli(argv: readonly string[]): CliOptions {
  let profile: Profile = PROFILES.quick;
  let only: BenchmarkName[] = [...BENCHMARKS];
  let out: string | undefined;
  let pin: 'auto' | boolean = 'auto';
  let cpuProfDir: string | undefined;
  let quiet = false;
  let source = false;
  let traceStages = false;
  let loadClient: LoadClientKind = DEFAULT_LOAD_CLIENT;
  let sessions: number[] | undefined;
  let resumeSessions: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    switch (arg) {
      case '--profile': {
        const name = value();
        if (!(name in PROFILES)) throw new Error(`unknown profile ${JSON.stringify(name)}\n${USAGE}`);
        profile = PROFILES[name as Profile['name']];
        break;
      }
      case '--only': {
        const names = value().split(',');
        for (const name of names) {
          if (!(BENCHMARKS as readonly string[]).includes(name)) {
            throw new Error(`unknown benchmark ${JSON.stringify(name)}\n${USAGE}`);
          }
        }
        only = names as BenchmarkName[];
        break;
      }
      case '--sessions': {
        const text = value();
        const counts = text.split(',').map(Number);
        if (counts.some((n) => !Number.isSafeInteger(n) || n < 1)) {
          throw new Error(`--sessions takes positive integers, got ${JSON.stringify(text)}\n${USAGE}`);
        }
        sessions = counts;
        break;
      }
      case '--resume-sessions': {
        const text = value();
        const n = Number(text);
        if (!Number.isSafeInteger(n) || n < 1) {
          throw new Error(
            `--resume-sessions takes a positive integer, got ${JSON.stringify(text)}\n${USAGE}`,
          );
        }
        resumeSessions = n;
        break;
      }
      case '--out':
        out = value();
        break;
      case '--pin':
        pin = true;
        break;
      case '--no-pin':
        pin = false;
        break;
      case '--cpu-prof':
        cpuProfDir = value();
        break;
      case '--quiet':
        quiet = true;
        break;
      case '--source':
        source = true;
        break;
      case '--trace-stages':
        traceStages = true;
        break;
      case '--load-client': {
        const kind = value();
        if (!isLoadClientKind(kind)) throw new Error(`unknown load client ${JSON.stringify(kind)}\n${USAGE}`);
        loadClient = kind;
        break;
      }
      case '--help':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  // Another size with the profile's durations (e.g. 1,000 sessions on the quick profile).
  if (sessions) profile = { ...profile, unicastSessions: sessions };
  // A storm of the full profile's size (1,000 clients) without its 20,000-message storm.
  if (resumeSessions) profile = { ...profile, resumeSessions };
  return { profile, only, out, pin, cpuProfDir, quiet, source, loadClient, traceStages };
}
