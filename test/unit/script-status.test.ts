import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScriptStatus } from '@holdfast/session-log';

const luaDir = new URL('../../shared/session-log/src/lua/', import.meta.url);
const lua = (file: string): string => readFileSync(new URL(file, luaDir), 'utf8');
const scripts = readdirSync(luaDir).filter((file) => file.endsWith('.lua'));

/** HF_NOT_FOUND -> NotFound: the TypeScript name of a Lua status constant. */
function tsName(luaName: string): string {
  return luaName
    .slice('HF_'.length)
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/** Every `local HF_… = <value>` of lib.lua, the one place the statuses are numbered. */
function luaStatuses(): Map<string, string> {
  const statuses = new Map<string, string>();
  for (const match of lua('lib.lua').matchAll(/^local (HF_[A-Z0-9_]+)\s*=\s*(\S+)/gm)) {
    statuses.set(match[1]!, match[2]!);
  }
  return statuses;
}

describe('script statuses: one table from Lua to TypeScript', () => {
  it('gives every HF_ constant of lib.lua a ScriptStatus of the same value, and the reverse', () => {
    const fromLua = Object.fromEntries(
      [...luaStatuses()].map(([name, value]) => [tsName(name), Number(value)]),
    );
    expect(Object.keys(fromLua).length).toBeGreaterThan(0);
    expect(fromLua).toEqual({ ...ScriptStatus });
  });

  it('leaves no bare status number in any script: replies start with an HF_ name', () => {
    for (const file of scripts) {
      const text = file === 'lib.lua' ? lua(file).replace(/^local HF_.*$/gm, '') : lua(file);
      // A table literal starting with a number is a reply spelled with a bare status.
      expect(text.match(/\{\s*-?\d+\s*[,}]/g) ?? [], file).toEqual([]);
      expect(text.match(/\breturn\s+-?\d/g) ?? [], file).toEqual([]);
    }
  });

  it('uses only statuses lib.lua defines', () => {
    const defined = new Set(luaStatuses().keys());
    for (const file of scripts) {
      for (const [name] of lua(file).matchAll(/\bHF_[A-Z0-9_]+/g)) {
        expect(defined.has(name), `${file}: ${name}`).toBe(true);
      }
    }
  });
});
