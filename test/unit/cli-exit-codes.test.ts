import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '@holdfast/cli';

// Scripts rely on the exit codes: docs/operations.md must list exactly the ones the CLI uses.
describe('the CLI exit codes', () => {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const section = doc.slice(
    doc.indexOf('### Exit codes'),
    doc.indexOf('###', doc.indexOf('### Exit codes') + 1),
  );
  const documented = [...section.matchAll(/^\| (\d+) +\|/gm)].map((m) => Number(m[1]));

  it('are each documented, and nothing else is', () => {
    expect(documented.sort((a, b) => a - b)).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });

  it('are distinct', () => {
    expect(new Set(Object.values(ExitCode)).size).toBe(Object.values(ExitCode).length);
  });
});
