import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, composeRequiredVariables, loadComposeFile, type ComposeFile } from '@holdfast/testing';

/** Paths of the shipped deployment files, and helpers the deploy tests share. */
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
export const DOCKERFILE = join(REPO_ROOT, 'Dockerfile');
export const HAPROXY_CFG = join(REPO_ROOT, 'deploy', 'haproxy.cfg');
export const REDIS_CONF = join(REPO_ROOT, 'deploy', 'redis.conf');
export const MAKE_DEV_CERT = join(REPO_ROOT, 'deploy', 'make-dev-cert.sh');

/** Values for the compose file's required variables, shaped like deploy/make-dev-env.sh makes them. */
export function devSecrets(): Record<string, string> {
  return Object.fromEntries(
    composeRequiredVariables(COMPOSE_FILE).map((name) => [name, randomBytes(32).toString('hex')]),
  );
}

export function loadShippedCompose(vars: Record<string, string> = devSecrets()): ComposeFile {
  return loadComposeFile(COMPOSE_FILE, vars);
}

export interface CommandResult {
  code: number | null;
  output: string;
}

export function runCommand(
  command: string,
  args: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** A fresh self-signed certificate from deploy/make-dev-cert.sh, in its own temp folder. */
export async function makeDevCert(): Promise<{ dir: string; pem: string; crt: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-cert-'));
  const made = await runCommand('sh', [MAKE_DEV_CERT, dir]);
  if (made.code !== 0) throw new Error(`make-dev-cert.sh failed:\n${made.output}`);
  return { dir, pem: join(dir, 'holdfast.pem'), crt: join(dir, 'holdfast.crt') };
}

/** An HAProxy time (`60s`, `500ms`, `1m`, bare = ms) in milliseconds. */
export function haproxyDuration(text: string): number {
  const match = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text);
  if (!match) throw new Error(`not an HAProxy time: ${text}`);
  const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms'] ?? 1;
  return Number(match[1]) * unit;
}

/** The argument of the first `keyword` line in an HAProxy config (e.g. `timeout tunnel`). */
export function haproxySetting(config: string, keyword: string): string {
  const line = config.split('\n').find((l) => l.trim().startsWith(`${keyword} `));
  if (line === undefined) throw new Error(`no '${keyword}' in the HAProxy config`);
  return line.trim().slice(keyword.length).trim().split(/\s+/)[0]!;
}
