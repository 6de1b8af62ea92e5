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
 * Lines go through the service's pino logger (logger.ts) once the configuration gave its level;
 * a bad configuration is reported on stderr, as there is no logger yet.
 */
import { lifecycleLogger, type Logger } from './logger.js';

export const ExitCode = { Clean: 0, Failed: 1, BadConfiguration: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ServiceDefinition<Config, Service> {
  /** `edge`, `api`, `worker`: names the service in its messages. */
  readonly name: string;
  /** Reads and checks everything an operator must get right; a throw exits 2 with its message. */
  configure(): Config | Promise<Config>;
  /** The service's logger, built from the configuration (LOG_LEVEL). */
  logger(config: Config): Logger;
  /** Starts the service (and says so in the log); a throw exits 1. */
  start(config: Config, logger: Logger): Promise<Service>;
  /** The graceful stop a signal starts; it resolving means exit 0, it failing exit 1. */
  stop(service: Service): Promise<void>;
  /** How long stop() may take; past it the process exits 1 with `timeoutMessage`. */
  stopTimeoutMs(config: Config): number;
  /** The line a signal logs as the stop begins: `msg`, and the signal and what is still running. */
  stopping(service: Service, signal: NodeJS.Signals): { readonly msg: string } & Record<string, unknown>;
  /** Logged when the stop outlives stopTimeoutMs. */
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
  const logger = definition.logger(config);
  const lifecycle = lifecycleLogger(logger);
  let service: Service;
  try {
    service = await definition.start(config, logger);
  } catch (error) {
    logger.error({ err: error }, `${name} failed to start`);
    return host.exit(ExitCode.Failed);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const { msg, ...fields } = definition.stopping(service, signal);
    lifecycle.info(fields, msg);
    setTimeout(() => {
      logger.error(definition.timeoutMessage);
      host.exit(ExitCode.Failed);
    }, definition.stopTimeoutMs(config)).unref();
    definition.stop(service).then(
      () => {
        lifecycle.info(`${name} stopped`);
        host.exit(ExitCode.Clean);
      },
      (error: unknown) => {
        logger.error({ err: error }, `${name} stop failed`);
        host.exit(ExitCode.Failed);
      },
    );
  };
  for (const signal of STOP_SIGNALS) host.on(signal, () => stop(signal));
}
