import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../services/cli/src/cli-io.js';
import { ProgressLine } from '../../services/cli/src/progress.js';
import { formatDuration, renderTable } from '../../services/cli/src/table.js';

function io(stderrIsTty: boolean): CliIo & { err: string[] } {
  const err: string[] = [];
  return {
    err,
    stdout: () => undefined,
    stderr: (text) => err.push(text),
    stderrIsTty,
    env: {},
    interrupted: new AbortController().signal,
  };
}

describe('CLI output', () => {
  it('pads table columns to their widest cell', () => {
    expect(
      renderTable(
        ['A', 'BB'],
        [
          ['long-value', 'x'],
          ['s', 'yy'],
        ],
      ),
    ).toBe('A           BB\nlong-value  x\ns           yy\n');
  });

  it('draws a progress line on a terminal only, and erases it', () => {
    const terminal = io(true);
    const progress = new ProgressLine(terminal);
    progress.update('scanning: 10');
    progress.clear();
    expect(terminal.err.join('')).toContain('scanning: 10');
    expect(terminal.err.at(-1)).toBe('\r\x1b[2K');

    const pipe = io(false);
    const quiet = new ProgressLine(pipe);
    quiet.update('scanning: 10');
    quiet.clear();
    expect(pipe.err).toEqual([]);
  });

  it('formats durations, 0 as unlimited', () => {
    expect([0, 86_400_000, 90_000, 1500].map(formatDuration)).toEqual(['unlimited', '1d', '90s', '1500ms']);
  });
});
