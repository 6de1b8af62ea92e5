import { readFile } from 'node:fs/promises';
import type { ServiceProcess } from '@holdfast/testing';

/** Samples the resident memory of the edge processes (Linux /proc) and keeps the peak of each. */
export class RssSampler {
  readonly peakBytes = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly processes: readonly ServiceProcess[]) {}

  start(everyMs = 1_000): void {
    this.#timer = setInterval(() => void this.sample(), everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  get peak(): number {
    return Math.max(0, ...this.peakBytes.values());
  }

  async sample(): Promise<void> {
    await Promise.all(
      this.processes.map(async (p) => {
        if (!p.running) return;
        const status = await readFile(`/proc/${p.pid}/status`, 'utf8').catch(() => '');
        const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
        if (kb > 0) this.peakBytes.set(p.name, Math.max(this.peakBytes.get(p.name) ?? 0, kb * 1024));
      }),
    );
  }
}
