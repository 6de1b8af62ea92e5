import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The session log's Lua scripts, one file each under ./lua (named `<name>-<numKeys>.lua`, as
 * BullMQ does, or `<name>-n.lua` when the number of keys varies per call), with lua/lib.lua
 * prepended. They are registered with ioredis `defineCommand`,
 * which sends EVALSHA and falls back to EVAL once per server, so each script body crosses the
 * wire once. The version in the command names lets two releases share one client process.
 */
const SCRIPT_VERSION = 2;

const scriptFiles = {
  create: 'create-3.lua',
  append: 'append-n.lua',
  read: 'read-3.lua',
  ack: 'ack-3.lua',
  info: 'info-3.lua',
  touch: 'touch-3.lua',
  end: 'end-9.lua',
  complete: 'complete-9.lua',
  claim: 'claim-3.lua',
  lease: 'lease-3.lua',
  leaseRenewMany: 'lease-renew-n.lua',
  trim: 'trim-3.lua',
  inboxEnqueue: 'inbox-enqueue-7.lua',
  inboxNext: 'inbox-next-4.lua',
  inboxStep: 'inbox-step-1.lua',
} as const;

export type ScriptName = keyof typeof scriptFiles;

type ScriptArg = string | number;
/** What every script replies: a status code followed by script-specific fields. */
export type ScriptReply = Array<string | number>;

function loadLua(file: string): string {
  return readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
}

const lib = loadLua('lib.lua');

function commandName(name: ScriptName): string {
  return `holdfast_${name}_v${SCRIPT_VERSION}`;
}

/** The fixed number of keys a script takes, or undefined when each call says (`-n.lua`). */
function numberOfKeys(file: string): number | undefined {
  const match = /-(\d+|n)\.lua$/.exec(file);
  if (!match?.[1]) throw new Error(`script file ${file} does not end in -<numKeys>.lua or -n.lua`);
  return match[1] === 'n' ? undefined : Number(match[1]);
}

const variableKeys = new Set(
  (Object.entries(scriptFiles) as Array<[ScriptName, string]>)
    .filter(([, file]) => numberOfKeys(file) === undefined)
    .map(([name]) => name),
);

export function defineScripts(redis: Redis): void {
  for (const [name, file] of Object.entries(scriptFiles) as Array<[ScriptName, string]>) {
    const keys = numberOfKeys(file);
    redis.defineCommand(commandName(name), {
      ...(keys === undefined ? {} : { numberOfKeys: keys }),
      lua: `${lib}\n${loadLua(file)}`,
    });
  }
}

type ScriptCommand = (...args: ScriptArg[]) => Promise<ScriptReply>;

/** Run a script on a connection where `defineScripts` has been called. */
export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: ScriptArg[],
): Promise<ScriptReply> {
  const command = (redis as unknown as Record<string, ScriptCommand>)[commandName(name)];
  if (!command) throw new Error(`script ${name} is not defined on this connection`);
  if (variableKeys.has(name)) return command.call(redis, keys.length, ...keys, ...args);
  return command.call(redis, ...keys, ...args);
}

/** Every script as Redis runs it (library included), by name: for tools that check them all. */
export function scriptSources(): Array<{ name: ScriptName; lua: string }> {
  return (Object.entries(scriptFiles) as Array<[ScriptName, string]>).map(([name, file]) => ({
    name,
    lua: `${lib}
${loadLua(file)}`,
  }));
}
