import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';

/**
 * Replays a Dockerfile without Docker: each stage gets a folder standing in for its file system,
 * COPY copies (from the build context, filtered by .dockerignore, or from an earlier stage), RUN
 * runs `sh -c` in the stage's WORKDIR with the host's node and npm. The base image's own files
 * are not there, so RUN steps must use relative paths under WORKDIR (the Dockerfile says so).
 * Anything this does not understand fails loudly instead of being skipped.
 */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string;
  readonly image: string;
  /** The folder standing in for the stage's `/`. */
  readonly root: string;
  workdir: string;
  readonly env: Record<string, string>;
  user: string | undefined;
  healthcheck: string[] | undefined;
  cmd: string[] | undefined;
  readonly runs: string[];
}

/** Instructions in order: continuation lines joined, comments and parser directives dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return; // comments inside a continued instruction
    if (pending === '') startLine = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const space = full.search(/\s/);
    instructions.push({
      keyword: full.slice(0, space).toUpperCase(),
      args: full.slice(space + 1).trim(),
      line: startLine,
    });
  });
  return instructions;
}

/** The paths of `dir` (relative, `/`-separated) that .dockerignore `patterns` leave in the context. */
export function dockerignoreMatcher(patterns: readonly string[]): (path: string) => boolean {
  const rules = patterns
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith('#'))
    .map((p) => {
      const negate = p.startsWith('!');
      const body = (negate ? p.slice(1) : p).replace(/^\.?\//, '').replace(/\/$/, '');
      const regex = body
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, regex: new RegExp(`^${regex}$`) };
    });
  // Docker: the last matching rule wins, and a matched folder excludes everything in it.
  const excluded = (path: string): boolean => {
    let result = false;
    for (const rule of rules) if (rule.regex.test(path)) result = !rule.negate;
    return result;
  };
  return (path) => {
    const parts = path.split('/');
    return !parts.some((_, i) => excluded(parts.slice(0, i + 1).join('/')));
  };
}

/** Copies `repo` into `contextDir` as `docker build` would send it (honouring .dockerignore). */
export async function buildContext(repo: string, contextDir: string): Promise<void> {
  const ignore = await readFile(join(repo, '.dockerignore'), 'utf8').catch(() => '');
  const included = dockerignoreMatcher(ignore.split('\n'));
  await cp(repo, contextDir, {
    recursive: true,
    filter: (source) => {
      const rel = relative(repo, source).split('\\').join('/');
      return rel === '' || included(rel);
    },
  });
}

export interface ReplayOptions {
  readonly dockerfile: string;
  readonly context: string;
  /** Each stage's file system goes in a folder under here. */
  readonly workDir: string;
  /** Environment for RUN steps besides the Dockerfile's ENV (PATH, HOME, npm settings). */
  readonly runEnv: Record<string, string>;
  /** Called after every COPY and RUN, with how long it took. */
  readonly onStep?: (stage: string, step: string, ms: number) => void;
}

interface StagePlan {
  readonly name: string;
  readonly image: string;
  readonly instructions: readonly Instruction[];
  /** Stages this one copies from: it starts when they are done, as BuildKit schedules them. */
  readonly dependsOn: readonly string[];
}

/**
 * Runs every stage, each as soon as the stages it copies from are done (independent stages run
 * at the same time, as with BuildKit), and returns them by name, in Dockerfile order.
 */
export async function replayDockerfile(options: ReplayOptions): Promise<Map<string, Stage>> {
  const plans = planStages(parseDockerfile(await readFile(options.dockerfile, 'utf8')));
  const running = new Map<string, Promise<Stage>>();
  for (const plan of plans) {
    const deps = plan.dependsOn.map((name) => {
      const dep = running.get(name);
      if (!dep) throw new Error(`stage ${plan.name} copies from ${name}, which is not an earlier stage`);
      return dep;
    });
    running.set(
      plan.name,
      Promise.all(deps).then((done) => runStage(plan, new Map(done.map((d) => [d.name, d])), options)),
    );
  }
  const stages = await Promise.all(running.values());
  return new Map(stages.map((stage) => [stage.name, stage]));
}

function planStages(instructions: readonly Instruction[]): StagePlan[] {
  const args: Record<string, string> = {};
  const plans: Array<{ name: string; image: string; instructions: Instruction[]; dependsOn: string[] }> = [];
  for (const instruction of instructions) {
    const { keyword, args: rest, line } = instruction;
    const current = plans.at(-1);
    if (keyword === 'ARG' && current === undefined) {
      const [name = '', value = ''] = rest.split('=');
      args[name] = value;
    } else if (keyword === 'FROM') {
      const expanded = rest.replace(
        /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
        (m, name: string) => args[name] ?? m,
      );
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(expanded);
      if (!match) throw new Error(`Dockerfile:${line} FROM: cannot parse ${rest}`);
      plans.push({
        name: match[2] ?? String(plans.length),
        image: match[1]!,
        instructions: [],
        dependsOn: [],
      });
    } else if (current === undefined) {
      throw new Error(`Dockerfile:${line} ${keyword}: before any FROM`);
    } else {
      current.instructions.push(instruction);
      const from = keyword === 'COPY' ? /--from=(\S+)/.exec(rest)?.[1] : undefined;
      if (from !== undefined && !current.dependsOn.includes(from)) current.dependsOn.push(from);
    }
  }
  return plans;
}

async function runStage(
  plan: StagePlan,
  earlier: ReadonlyMap<string, Stage>,
  options: ReplayOptions,
): Promise<Stage> {
  const root = join(options.workDir, plan.name);
  await mkdir(root, { recursive: true });
  const stage: Stage = {
    name: plan.name,
    image: plan.image,
    root,
    workdir: root,
    env: {},
    user: undefined,
    healthcheck: undefined,
    cmd: undefined,
    runs: [],
  };
  for (const { keyword, args: rest, line } of plan.instructions) {
    const where = `Dockerfile:${line} ${keyword}`;
    const started = Date.now();
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = rest.startsWith('/') ? join(root, rest) : join(stage.workdir, rest);
        await mkdir(stage.workdir, { recursive: true });
        break;
      case 'ENV': {
        const eq = rest.indexOf('=');
        if (eq < 0) throw new Error(`${where}: use ENV NAME=value`);
        stage.env[rest.slice(0, eq)] = rest.slice(eq + 1);
        break;
      }
      case 'COPY':
        await copy(rest, stage, earlier, options.context, where);
        options.onStep?.(stage.name, `COPY ${rest}`, Date.now() - started);
        break;
      case 'RUN':
        // The shell expands its own variables, as in Docker.
        await run(rest, stage.workdir, { ...options.runEnv, ...stage.env }, where);
        stage.runs.push(rest);
        options.onStep?.(stage.name, `RUN ${rest}`, Date.now() - started);
        break;
      case 'USER':
        stage.user = rest;
        break;
      case 'CMD':
        stage.cmd = execForm(rest, where);
        break;
      case 'HEALTHCHECK': {
        const cmd = /\bCMD\s+(\[.*\])$/.exec(rest);
        if (!cmd) throw new Error(`${where}: expected HEALTHCHECK [options] CMD [exec form]`);
        stage.healthcheck = execForm(cmd[1]!, where);
        break;
      }
      case 'EXPOSE':
        break;
      default:
        throw new Error(
          `${where}: not supported by the replay (extend test/integration/deploy/dockerfile-replay.ts)`,
        );
    }
  }
  return stage;
}

async function copy(
  rest: string,
  stage: Stage,
  stages: ReadonlyMap<string, Stage>,
  context: string,
  where: string,
): Promise<void> {
  const words = rest.split(/\s+/);
  let from: Stage | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const fromMatch = /^--from=(.+)$/.exec(flag);
    if (fromMatch) {
      from = stages.get(fromMatch[1]!);
      if (!from) throw new Error(`${where}: no earlier stage ${fromMatch[1]}`);
    } else if (!flag.startsWith('--chown=') && !flag.startsWith('--chmod=')) {
      throw new Error(`${where}: flag ${flag} not supported by the replay`);
    }
  }
  const dest = words.pop();
  if (dest === undefined || words.length === 0) throw new Error(`${where}: expected COPY <src>... <dest>`);
  const destPath = dest.startsWith('/') ? join(stage.root, dest) : join(stage.workdir, dest);
  for (const src of words) {
    if (/[*?[]/.test(src)) throw new Error(`${where}: wildcards are not supported by the replay`);
    const source = from ? join(from.root, src) : join(context, src);
    const info = await stat(source).catch(() => undefined);
    if (!info)
      throw new Error(
        `${where}: ${src} does not exist${from ? ` in stage ${from.name}` : ' in the context'}`,
      );
    if (info.isDirectory()) {
      // Docker copies a folder's contents, not the folder itself. cp -a keeps symlinks (the
      // workspace links in node_modules) and is much faster than fs.cp on node_modules.
      await mkdir(destPath, { recursive: true });
      await run(`cp -a "${source}/." "${destPath}/"`, stage.root, { PATH: process.env.PATH ?? '' }, where);
    } else {
      const target = dest.endsWith('/') || words.length > 1 ? join(destPath, basename(src)) : destPath;
      await mkdir(dirname(target), { recursive: true });
      await cp(source, target);
    }
  }
}

function execForm(text: string, where: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new Error(`${where}: expected the exec form ["cmd", "arg", ...]`);
  }
  return parsed;
}

function run(command: string, cwd: string, env: Record<string, string>, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-16_384);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${where} failed (exit ${code}): ${command}\n${output}`)),
    );
  });
}
