import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { ClientErrorCode, actionFor } from '@holdfast/client';

const doc = readFileSync(new URL('../../docs/client.md', import.meta.url), 'utf8');

describe('docs/client.md', () => {
  it('lists every code with what the client does about it', () => {
    const section = doc.slice(doc.indexOf('## Behaviour on each code'), doc.indexOf('## Delivery, acks'));
    const rows = new Map<string, string>();
    for (const match of section.matchAll(/^\| `([a-z_]+)` +\| ([a-z_]+) +\|/gm))
      rows.set(match[1]!, match[2]!);
    const clientActions: Record<string, string> = { token_refresh_failed: 'refresh_token' };
    for (const code of Object.values(ErrorCode)) expect(rows.get(code), code).toBe(actionFor(code));
    for (const code of Object.values(ClientErrorCode)) {
      expect(rows.get(code), code).toBe(clientActions[code] ?? actionFor(code));
    }
    expect([...rows.keys()].sort()).toEqual(
      [...Object.values(ErrorCode), ...Object.values(ClientErrorCode)].sort(),
    );
  });
});
