/**
 * How every Holdfast service process runs, in one place: configuration first, then start, then
 * one graceful stop when SIGTERM or SIGINT arrives (later signals change nothing), bounded in
 * time. One exit-code rule for all of them:
 *
 *   0  stopped cleanly
 *   1  failed to start, the stop failed, or the stop outlived its bound
 *   2  bad configuration (the message names what to fix)
 *
 * The services' main.ts files only say what configuring, starting and stopping mean for them.
 */
export const ExitCode = { Clean: 0, Failed: 1, BadConfiguration: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ServiceDefinition<Config, Service> {
  /** `edge`, `api`, `worker`: names the service in its messages. */
  readonly name: string;
  /** Reads and checks everything an operator must get right; a throw exits 2 with its message. */
  configure(): Config | Promise<Config>;
  /** Starts the service (and says so in the log); a throw exits 1. */
  start(config: Config): Promise<Service>;
  /** The graceful stop a signal starts; it resolving means exit 0, it failing exit 1. */
  stop(service: Service): Promise<void>;
  /** How long stop() may take; past it the process exits 1 with `timeoutMessage`. */
  stopTimeoutMs(config: Config): number;
  /** The log line a signal prints as the stop begins: `msg`, the signal and what is still running. */
  stopping(service: Service, signal: NodeJS.Signals): Record<string, unknown>;
  /** Logged (as `msg`) when the stop outlives stopTimeoutMs. */
  readonly timeoutMessage: string;
}

/** What runService touches of the process; tests give their own. */
export interface ServiceHost {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  exit(code: ExitCode): void;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Runs `definition` as this process: configure, start, stop on a signal, exit by the rule above. */
export async function runService<Config, Service>(
  definition: ServiceDefinition<Config, Service>,
  host: ServiceHost = {
    on: (signal, listener) => process.on(signal, listener),
    exit: (code) => process.exit(code),
  },
): Promise<void> {
  const { name } = definition;
  let config: Config;
  try {
    config = await definition.configure();
  } catch (error) {
    console.error(`holdfast ${name}: ${(error as Error).message}`);
    return host.exit(ExitCode.BadConfiguration);
  }
  let service: Service;
  try {
    service = await definition.start(config);
  } catch (error) {
    console.error(`holdfast ${name} failed to start:`, error);
    return host.exit(ExitCode.Failed);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify(definition.stopping(service, signal)));
    setTimeout(() => {
      console.error(JSON.stringify({ msg: definition.timeoutMessage }));
      host.exit(ExitCode.Failed);
    }, definition.stopTimeoutMs(config)).unref();
    definition.stop(service).then(
      () => {
        console.log(JSON.stringify({ msg: `${name} stopped` }));
        host.exit(ExitCode.Clean);
      },
      (error: unknown) => {
        console.error(`${name} stop failed`, error);
        host.exit(ExitCode.Failed);
      },
    );
  };
  for (const signal of STOP_SIGNALS) host.on(signal, () => stop(signal));
}
