/**
 * The CLI's exit codes: a contract with scripts (documented in docs/operations.md, kept in step
 * by test/unit/cli-exit-codes.test.ts). Each failure class has its own code, so a script can
 * tell "retry later" (unreachable) from "fix the call" (usage) from "nothing to do" (not found).
 */
export const ExitCode = {
  /** The command did what it was asked. */
  Ok: 0,
  /** An unexpected failure (a bug, or an answer the CLI does not understand). */
  Failure: 1,
  /** Bad command line: unknown command or flag, missing or malformed argument. */
  Usage: 2,
  /** The session does not exist, or has ended (deleted, expired). */
  NotFound: 3,
  /** The API, Redis or an edge did not answer in time, or cannot reach Redis itself. */
  Unreachable: 4,
  /** No API key, or the API refused it. */
  Unauthorized: 5,
  /** The service refused the request as asked (e.g. invalid options, a conflict). */
  Refused: 6,
  /** The deployment offers no way to do this (e.g. draining an edge remotely). */
  Unsupported: 7,
  /** `sessions tail` stopped by Ctrl-C (SIGINT) or SIGTERM, as shells report 128 + SIGINT. */
  Interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
