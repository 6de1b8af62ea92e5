import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { COMPOSE_MERGE_TAGS, mergeComposeDocuments, untagged } from './compose-merge.js';
import { interpolate, requiredVariables, type Variables } from './interpolate.js';

/**
 * docker-compose.yml, and any override files after it, read the way `docker compose -f … -f …`
 * reads them (YAML with merge keys, the files merged, then variable interpolation), reduced to
 * what running the services as local processes needs.
 */
export interface ComposeFile {
  /** Absolute path of the first file; relative paths in every file are relative to its folder. */
  readonly path: string;
  /** Every file, in merge order (the first is `path`). */
  readonly files: readonly string[];
  readonly services: Readonly<Record<string, ComposeService>>;
}

export interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  /** Exec form; undefined when the image's default command runs. */
  readonly command: readonly string[] | undefined;
  readonly environment: Readonly<Record<string, string>>;
  /** `deploy.replicas` (default 1). */
  readonly replicas: number;
  /** `stop_grace_period` in ms (Compose's default: 10 s). */
  readonly stopGracePeriodMs: number;
  readonly volumes: readonly VolumeMount[];
  readonly healthcheckDisabled: boolean;
  /** `profiles`: a service with any runs only when one is enabled (the local runner enables none). */
  readonly profiles: readonly string[];
  /** The service as parsed and interpolated, for checks on anything else. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface VolumeMount {
  /** An absolute host path for bind mounts, the volume name for named volumes. */
  readonly source: string;
  readonly target: string;
  readonly bind: boolean;
  readonly readOnly: boolean;
}

const DEFAULT_STOP_GRACE_MS = 10_000;

/** The variables (secrets) the files require with `${NAME:?...}`. */
export function composeRequiredVariables(paths: string | readonly string[]): string[] {
  const names = [paths].flat().flatMap((path) => requiredVariables(readFileSync(path, 'utf8')));
  return [...new Set(names)];
}

/**
 * Parses the files, merges each over the ones before it (`docker compose -f a -f b`) and
 * interpolates the result with `vars`; a missing required variable throws, naming it.
 */
export function loadComposeFile(paths: string | readonly string[], vars: Variables): ComposeFile {
  const files = [paths].flat().map((path) => resolve(path));
  const [first, ...overrides] = files;
  if (first === undefined) throw new Error('loadComposeFile: no compose file given');
  const parseFile = (file: string): unknown =>
    parse(readFileSync(file, 'utf8'), { merge: true, customTags: COMPOSE_MERGE_TAGS });
  const doc = overrides.reduce(
    (merged, file) => mergeComposeDocuments(merged, parseFile(file)),
    untagged(parseFile(first)),
  );
  const root = asRecord(interpolateTree(doc, vars), 'the compose file');
  const services = asRecord(root.services, 'services');
  const projectDir = dirname(first);
  return {
    path: first,
    files,
    services: Object.fromEntries(
      Object.entries(services).map(([name, raw]) => [name, toService(name, asRecord(raw, name), projectDir)]),
    ),
  };
}

function toService(name: string, raw: Record<string, unknown>, projectDir: string): ComposeService {
  const deploy = raw.deploy === undefined ? {} : asRecord(raw.deploy, `${name}.deploy`);
  const healthcheck = raw.healthcheck === undefined ? {} : asRecord(raw.healthcheck, `${name}.healthcheck`);
  return {
    name,
    image: typeof raw.image === 'string' ? raw.image : undefined,
    command: toCommand(raw.command, name),
    environment: toEnvironment(raw.environment, name),
    replicas: deploy.replicas === undefined ? 1 : Number(deploy.replicas),
    stopGracePeriodMs:
      raw.stop_grace_period === undefined
        ? DEFAULT_STOP_GRACE_MS
        : parseComposeDuration(String(raw.stop_grace_period)),
    volumes: toVolumes(raw.volumes, name, projectDir),
    healthcheckDisabled: healthcheck.disable === true,
    profiles: Array.isArray(raw.profiles) ? raw.profiles.map(String) : [],
    raw,
  };
}

function toCommand(value: unknown, service: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.split(/\s+/).filter((part) => part !== '');
  if (Array.isArray(value)) return value.map(String);
  throw new Error(`${service}.command: expected a string or a list`);
}

/** `environment` as a map or as a `KEY=value` list; a key without a value is left out. */
function toEnvironment(value: unknown, service: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const env: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of value.map(String)) {
      const eq = item.indexOf('=');
      if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return env;
  }
  for (const [key, item] of Object.entries(asRecord(value, `${service}.environment`))) {
    if (item !== null && item !== undefined) env[key] = String(item);
  }
  return env;
}

function toVolumes(value: unknown, service: string, projectDir: string): VolumeMount[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${service}.volumes: expected a list`);
  return value.map((item): VolumeMount => {
    if (typeof item === 'string') {
      const [source = '', target = '', mode = ''] = item.split(':');
      const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
      return {
        source: bind ? resolveHostPath(source, projectDir) : source,
        target,
        bind,
        readOnly: mode.split(',').includes('ro'),
      };
    }
    const mount = asRecord(item, `${service}.volumes[]`);
    const bind = mount.type === 'bind';
    const source = String(mount.source ?? '');
    return {
      source: bind ? resolveHostPath(source, projectDir) : source,
      target: String(mount.target ?? ''),
      bind,
      readOnly: mount.read_only === true,
    };
  });
}

function resolveHostPath(path: string, projectDir: string): string {
  if (path.startsWith('~')) return resolve(process.env.HOME ?? '/', path.slice(2));
  return isAbsolute(path) ? path : resolve(projectDir, path);
}

/** The host path bind-mounted at `containerPath` (a file or a path inside a mounted folder). */
export function hostPathFor(service: ComposeService, containerPath: string): string | undefined {
  for (const mount of service.volumes) {
    if (!mount.bind) continue;
    if (containerPath === mount.target) return mount.source;
    if (containerPath.startsWith(`${mount.target}/`)) {
      return resolve(mount.source, containerPath.slice(mount.target.length + 1));
    }
  }
  return undefined;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Compose duration (Go syntax: `30s`, `1m30s`, `500ms`, `1.5h`) in milliseconds. */
export function parseComposeDuration(text: string): number {
  const trimmed = text.trim();
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) {
    throw new Error(`not a duration: ${JSON.stringify(text)} (expected e.g. 30s, 1m30s, 500ms)`);
  }
  return parts.reduce(
    (total, [, amount, unit]) => total + Number(amount) * (DURATION_UNITS[unit ?? ''] ?? NaN),
    0,
  );
}

function interpolateTree(node: unknown, vars: Variables): unknown {
  if (typeof node === 'string') return interpolate(node, vars);
  if (Array.isArray(node)) return node.map((item) => interpolateTree(item, vars));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, interpolateTree(value, vars)]),
    );
  }
  return node;
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what}: expected a mapping`);
  }
  return value as Record<string, unknown>;
}
