/**
 * Progress while the suite runs: every step prints a line (elapsed, phase, peer, step n of m),
 * and on a terminal a bar for the current phase is redrawn twice a second, so a long
 * measurement is never minutes of silence. Off a terminal a heartbeat line every 15 s.
 */
export class Progress {
  private readonly started = Date.now();
  private phase = '';
  private total = 0;
  private done = 0;
  private label = '';
  private stepStarted = Date.now();
  private lastHeartbeat = Date.now();
  private readonly tty = process.stdout.isTTY === true;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly quiet = false) {
    this.timer = setInterval(() => this.tick(), 500);
    this.timer.unref();
  }

  /** A new benchmark phase with `steps` steps. */
  begin(phase: string, steps: number): void {
    this.phase = phase;
    this.total = steps;
    this.done = 0;
    this.line(`== ${phase} (${steps} steps)`);
  }

  /** The next step starts: what is running now. */
  step(label: string): void {
    this.label = label;
    this.stepStarted = Date.now();
    this.line(`${this.phase} [${this.done + 1}/${this.total}] ${label}`);
  }

  stepDone(summary?: string): void {
    this.done = Math.min(this.total, this.done + 1);
    if (summary) this.line(`${this.phase} [${this.done}/${this.total}] ${this.label}: ${summary}`);
  }

  note(text: string): void {
    this.line(text);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty) process.stdout.write('\r\x1b[K');
  }

  private line(text: string): void {
    if (this.quiet) return;
    if (this.tty) process.stdout.write('\r\x1b[K');
    console.log(`[${clock(Date.now() - this.started)}] ${text}`);
    this.lastHeartbeat = Date.now();
  }

  private tick(): void {
    if (this.quiet || this.total === 0) return;
    const now = Date.now();
    if (this.tty) {
      const width = 30;
      const filled = Math.round((this.done / this.total) * width);
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      process.stdout.write(
        `\r\x1b[K[${clock(now - this.started)}] ${this.phase} [${bar}] ${this.done}/${this.total} ${this.label} (${clock(now - this.stepStarted)})`,
      );
    } else if (now - this.lastHeartbeat > 15_000) {
      this.line(`${this.phase}: still running ${this.label} (${clock(now - this.stepStarted)})`);
    }
  }
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
