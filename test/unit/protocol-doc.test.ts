import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode, errorActions } from '@holdfast/protocol';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

describe('docs/protocol.md', () => {
  it('lists every error code with the action the protocol package gives it', () => {
    const rows = new Map<string, string>();
    for (const match of doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*([a-z_]+)\s*\|/gm))
      rows.set(match[1]!, match[2]!);
    for (const code of Object.values(ErrorCode)) {
      expect(rows.get(code), `code ${code}`).toBe(errorActions[code]);
    }
    expect([...rows.keys()].sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('documents every event of the protocol', () => {
    for (const event of [
      'hello',
      'batch',
      'reset',
      'session_ended',
      'replaced',
      'drain',
      'fault',
      'ack',
      'token',
    ]) {
      expect(doc).toMatch(new RegExp(`^\\|\\s*\`${event}\`\\s*\\|`, 'm'));
    }
  });
});
