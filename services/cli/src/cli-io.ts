/** Everything a command touches outside itself, so the same code runs in a process and in tests. */
export interface CliIo {
  /** Command output (tables, JSON). */
  readonly stdout: (text: string) => void;
  /** Errors, notices and progress. */
  readonly stderr: (text: string) => void;
  /** Progress lines are drawn only on a terminal: a script's log should not fill with them. */
  readonly stderrIsTty: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C or SIGTERM: long-running commands (tail) stop cleanly. */
  readonly interrupted: AbortSignal;
}
