import type { CliIo } from './cli-io.js';

/**
 * One self-overwriting status line on stderr for long operations, drawn only when stderr is a
 * terminal, and erased before the result is printed.
 */
export class ProgressLine {
  private drawn = false;

  constructor(private readonly io: CliIo) {}

  update(text: string): void {
    if (!this.io.stderrIsTty) return;
    this.io.stderr(`\r\x1b[2K${text}`);
    this.drawn = true;
  }

  clear(): void {
    if (!this.drawn) return;
    this.io.stderr('\r\x1b[2K');
    this.drawn = false;
  }
}
