import { readFileSync } from 'node:fs';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';

/**
 * The session log's Lua scripts, one file each under ./lua (named `<name>-<numKeys>.lua`, as
 * BullMQ does, or `<name>-n.lua` when the number of keys varies per call), with lua/lib.lua
 * and lua/lib-session.lua prepended. They are registered with ioredis `defineCommand`,
 * which sends EVALSHA and falls back to EVAL once per server, so each script body crosses the
 * wire once. The version in the command names lets two releases share one client process.
 */
const SCRIPT_VERSION = 2;

const scriptFiles = {
  create: 'create-3.lua',
  append: 'append-n.lua',
  read: 'read-3.lua',
  ackMany: 'ack-n.lua',
  info: 'info-3.lua',
  start: 'start-n.lua',
  touch: 'touch-3.lua',
  end: 'end-9.lua',
  complete: 'complete-9.lua',
  claimMany: 'claim-n.lua',
  lease: 'lease-3.lua',
  leaseRenewMany: 'lease-renew-n.lua',
  trim: 'trim-3.lua',
  inboxEnqueue: 'inbox-enqueue-7.lua',
  inboxNext: 'inbox-next-4.lua',
  inboxStep: 'inbox-step-2.lua',
} as const;

export type ScriptName = keyof typeof scriptFiles;

type ScriptArg = string | number;
/** What every script replies: a status code followed by script-specific fields. */
export type ScriptReply = Array<string | number>;

function loadLua(file: string): string {
  return readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
}

// lib-session.lua uses lib.lua's helpers, so it comes second.
const lib = `${loadLua('lib.lua')}\n${loadLua('lib-session.lua')}`;

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

export function defineScripts(redis: Redis | Cluster): void {
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
  redis: Redis | Cluster,
  name: ScriptName,
  keys: string[],
  args: ScriptArg[],
): Promise<ScriptReply> {
  const command = (redis as unknown as Record<string, ScriptCommand>)[commandName(name)];
  if (!command) throw new Error(`script ${name} is not defined on this connection`);
  if (variableKeys.has(name)) return command.call(redis, keys.length, ...keys, ...args);
  return command.call(redis, ...keys, ...args);
}

type QueuedScript = (...args: Array<ScriptArg | ((error: Error | null, reply?: unknown) => void)>) => unknown;

/**
 * Queue a script on a pipeline of a connection where `defineScripts` has been called;
 * `settled` is called when its reply (or, after a NOSCRIPT, its resent reply) is in.
 */
export function queueScript(
  pipeline: ChainableCommander,
  name: ScriptName,
  keys: string[],
  args: ScriptArg[],
  settled: (error: Error | null, reply?: unknown) => void,
): void {
  const command = (pipeline as unknown as Record<string, QueuedScript>)[commandName(name)];
  if (!command) throw new Error(`script ${name} is not defined on this connection`);
  if (variableKeys.has(name)) command.call(pipeline, keys.length, ...keys, ...args, settled);
  else command.call(pipeline, ...keys, ...args, settled);
}

/** Every script as Redis runs it (library included), by name: for tools that check them all. */
export function scriptSources(): Array<{ name: ScriptName; lua: string }> {
  return (Object.entries(scriptFiles) as Array<[ScriptName, string]>).map(([name, file]) => ({
    name,
    lua: `${lib}
${loadLua(file)}`,
  }));
}
