import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiErrorCode, apiEnvSchema, routes, statusOf } from '@holdfast/api';
import { ErrorCode } from '@holdfast/protocol';

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

describe('docs/api.md', () => {
  it('lists every code the API answers with, with its HTTP status', () => {
    const emitted = new Set<string>([
      ...routes.flatMap((route) => route.errors),
      ErrorCode.ServerDraining,
      ...Object.values(ApiErrorCode),
    ]);
    const rows = new Map<string, number>();
    for (const match of doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm))
      rows.set(match[1]!, Number(match[2]));
    for (const code of emitted) expect(rows.get(code), `code ${code}`).toBe(statusOf(code as ErrorCode));
    expect([...rows.keys()].sort()).toEqual([...emitted].sort());
  });

  it('documents every environment variable', () => {
    for (const variable of Object.keys(apiEnvSchema.shape)) {
      expect(doc, variable).toMatch(new RegExp(`^\\|[^\\n]*\`${variable}\``, 'm'));
    }
  });

  it('has a section for every route', () => {
    for (const route of routes) {
      expect(doc, `${route.method} ${route.path}`).toContain(`### \`${route.method} ${route.path}`);
    }
  });
});
