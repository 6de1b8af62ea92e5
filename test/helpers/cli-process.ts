import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@holdfast/testing';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What `npx holdfast` runs (node_modules/.bin/holdfast links to it). */
export const CLI_BIN = 'services/cli/bin/holdfast.js';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The ops CLI as a real process (`node services/cli/bin/holdfast.js …`), with exactly `env`
 * plus PATH and HOME: its settings come from nowhere else. stdout and stderr are pipes, so it
 * runs as under a script (no progress lines).
 */
export class CliProcess {
  private out = '';
  private err = '';
  private readonly exited: Promise<CliResult>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.err += chunk));
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => resolve({ code, stdout: this.out, stderr: this.err }));
    });
  }

  static spawn(args: readonly string[], env: Record<string, string>): CliProcess {
    return new CliProcess(
      spawn(process.execPath, [CLI_BIN, ...args], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  get stdout(): string {
    return this.out;
  }

  /** Resolves once stdout holds `lines` complete lines. */
  async waitForLines(lines: number, what: string): Promise<void> {
    await waitFor(() => this.out.split('\n').length > lines, { timeoutMs: 20_000, what });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  result(): Promise<CliResult> {
    return this.exited;
  }
}

/** Run the CLI to its end. */
export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return CliProcess.spawn(args, env).result();
}
