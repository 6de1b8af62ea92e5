import { YAMLMap, YAMLSeq, type CollectionTag, type ScalarTag } from 'yaml';

/**
 * Docker Compose's rules for `docker compose -f base.yml -f override.yml` (the Compose
 * specification, "Merge"), for what Holdfast's compose files use: mappings merge by key, a later
 * scalar wins, `command`, `entrypoint` and `healthcheck.test` are replaced, `volumes` merge by
 * target, `environment` and `depends_on` merge by name whether written as lists or mappings,
 * other sequences are appended; `!override` replaces a value whole and `!reset` removes it.
 */

/** Marks a value that carried one of Compose's merge tags, until the merge has applied it. */
const MERGE_TAG = Symbol('compose merge tag');
type MergeTag = 'override' | 'reset';
interface Tagged {
  readonly [MERGE_TAG]: MergeTag;
  readonly value: unknown;
}

function tagged(tag: MergeTag, value: unknown): Tagged {
  return { [MERGE_TAG]: tag, value };
}

function tagOf(value: unknown): MergeTag | undefined {
  return value !== null && typeof value === 'object' && MERGE_TAG in value
    ? (value as Tagged)[MERGE_TAG]
    : undefined;
}

/** YAML tags `!override` and `!reset` on mappings, sequences and scalars, for yaml's `customTags`. */
export const COMPOSE_MERGE_TAGS: Array<CollectionTag | ScalarTag> = (['override', 'reset'] as const).flatMap(
  (tag) => {
    const name = `!${tag}`;
    return [
      {
        tag: name,
        collection: 'map',
        resolve: (map: YAMLMap.Parsed | YAMLSeq.Parsed) => wrapCollection(new YAMLMap(), map, tag),
      },
      {
        tag: name,
        collection: 'seq',
        resolve: (seq: YAMLMap.Parsed | YAMLSeq.Parsed) => wrapCollection(new YAMLSeq(), seq, tag),
      },
      { tag: name, resolve: (text: string) => tagged(tag, text) },
    ] satisfies Array<CollectionTag | ScalarTag>;
  },
);

/** A copy of `parsed` whose plain-JS form carries the tag (yaml turns nodes into JS with toJSON). */
function wrapCollection(copy: YAMLMap | YAMLSeq, parsed: YAMLMap.Parsed | YAMLSeq.Parsed, tag: MergeTag) {
  copy.items = parsed.items as typeof copy.items;
  const plain = copy.toJSON.bind(copy) as (...args: unknown[]) => unknown;
  Object.defineProperty(copy, 'toJSON', { value: (...args: unknown[]) => tagged(tag, plain(...args)) });
  return copy;
}

/** Applies `override` over `base` (the documents as parsed, tags included); the result has no tags. */
export function mergeComposeDocuments(base: unknown, override: unknown): unknown {
  return merge(untagged(base), override, []);
}

/** The document with every tag dropped (a single file's tags have nothing to apply to). */
export function untagged(node: unknown): unknown {
  if (tagOf(node) !== undefined) return untagged((node as Tagged).value);
  if (Array.isArray(node)) return node.map(untagged);
  if (isMapping(node)) {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, untagged(value)]));
  }
  return node;
}

/** Service attributes whose later value replaces the earlier one instead of being appended to. */
const REPLACED = new Set(['command', 'entrypoint', 'healthcheck.test']);
/** Service attributes written as `NAME=value` / `name` lists or as mappings, merged by name. */
const BY_NAME = new Set(['environment', 'depends_on']);

/** `path` is the key path below `services.<name>` inside a service, else from the root. */
function merge(base: unknown, override: unknown, path: readonly string[]): unknown {
  const tag = tagOf(override);
  if (tag === 'reset') return undefined;
  if (tag === 'override') return untagged((override as Tagged).value);
  const attribute = serviceAttribute(path);
  if (attribute !== undefined && REPLACED.has(attribute)) return untagged(override);
  if (attribute !== undefined && BY_NAME.has(attribute)) {
    return merge(byName(base, attribute), byName(untagged(override), attribute), [...path, '*']);
  }
  if (Array.isArray(base) && Array.isArray(override)) {
    if (attribute === 'volumes') return mergeVolumes(base, override.map(untagged));
    return [...base, ...override.map(untagged)];
  }
  if (isMapping(base) && isMapping(override)) {
    const keys = new Set([...Object.keys(base), ...Object.keys(override)]);
    const entries = [...keys].map((key): [string, unknown] => {
      if (!(key in override)) return [key, base[key]];
      return [key, merge(base[key], override[key], [...path, key])];
    });
    // A merged value of undefined is a `!reset`: the key is gone.
    return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
  }
  return untagged(override);
}

/** `healthcheck.test` for path `services.<name>.healthcheck.test`; undefined outside services. */
function serviceAttribute(path: readonly string[]): string | undefined {
  return path[0] === 'services' && path.length > 2 ? path.slice(2).join('.') : undefined;
}

/** `[A=1, B]` → `{A: '1', B: null}`; `[svc]` (depends_on) → `{svc: {condition: service_started}}`. */
function byName(value: unknown, attribute: string): unknown {
  if (!Array.isArray(value)) return value;
  const entries = value.map((item): [string, unknown] => {
    const text = String(item);
    if (attribute === 'depends_on') return [text, { condition: 'service_started' }];
    const eq = text.indexOf('=');
    return eq < 0 ? [text, null] : [text.slice(0, eq), text.slice(eq + 1)];
  });
  return Object.fromEntries(entries);
}

/** Volumes are unique by target: a later mount at the same target replaces the earlier one. */
function mergeVolumes(base: readonly unknown[], override: readonly unknown[]): unknown[] {
  const targets = new Set(override.map(volumeTarget));
  return [...base.filter((mount) => !targets.has(volumeTarget(mount))), ...override];
}

function volumeTarget(mount: unknown): string {
  if (typeof mount === 'string') return mount.split(':')[1] ?? mount;
  return isMapping(mount) ? String(mount.target ?? '') : '';
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
