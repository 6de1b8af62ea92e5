import { z } from 'zod';
import { sleep } from '../backoff.js';
import type { Handler } from '../handler.js';

/**
 * An example handler that behaves like an AI agent: for each prompt `{ text }` it streams
 * token deltas `{ type: 'delta', text }` (a few per publish, as a model's output arrives) and
 * then one `{ type: 'final', text }` holding the whole reply (the deltas joined).
 *
 * The reply is made-up text, deterministic for a prompt and attempt; another attempt of the
 * same prompt answers differently, as a real model would, which is why clients must drop the
 * output of an aborted attempt rather than append to it.
 */
export interface ExampleAgentOptions {
  /** @default 200 (EXAMPLE_AGENT_DELTAS) */
  deltas: number;
  /** Pause before each delta. @default 10 (EXAMPLE_AGENT_DELAY_MS) */
  delayMs: number;
  /** Deltas per publish. @default 5 */
  batchSize: number;
}

export const exampleAgentEnvSchema = z.object({
  EXAMPLE_AGENT_DELTAS: z.coerce.number().int().positive().max(100_000).default(200),
  EXAMPLE_AGENT_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(10),
});

export function exampleAgentOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ExampleAgentOptions {
  const parsed = exampleAgentEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid example agent configuration:\n  ${problems.join('\n  ')}`);
  }
  return {
    deltas: parsed.data.EXAMPLE_AGENT_DELTAS,
    delayMs: parsed.data.EXAMPLE_AGENT_DELAY_MS,
    batchSize: 5,
  };
}

const WORDS = [
  'the', 'session', 'log', 'keeps', 'every', 'reply', 'in', 'order', 'so', 'a', 'client', 'that',
  'drops', 'resumes', 'where', 'it', 'left', 'off', 'durable', 'streams', 'carry', 'tokens', 'to',
  'whoever', 'asks', 'nothing', 'lost', 'twice', 'agent', 'thinks', 'about', 'your', 'question',
]; // prettier-ignore

/** FNV-1a: a small, stable hash to seed the made-up reply. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The deltas of the reply to `prompt` in attempt `attempt`; their concatenation is the reply. */
export function exampleReply(prompt: string, attempt: number, deltas: number): string[] {
  let state = hash(`${attempt}:${prompt}`) || 1;
  const out: string[] = [];
  for (let i = 0; i < deltas; i++) {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const word = WORDS[state % WORDS.length] ?? 'and';
    out.push(i === 0 ? `(attempt ${attempt}) ${word}` : ` ${word}`);
  }
  return out;
}

function promptText(data: unknown): string {
  if (typeof data === 'object' && data !== null && typeof (data as { text?: unknown }).text === 'string') {
    return (data as { text: string }).text;
  }
  throw new Error('the example agent expects a prompt of the form { "text": string }');
}

export function createExampleAgent(options: Partial<ExampleAgentOptions> = {}): Handler {
  const deltas = options.deltas ?? 200;
  const delayMs = options.delayMs ?? 10;
  const batchSize = Math.max(1, options.batchSize ?? 5);
  return async (ctx) => {
    const reply = exampleReply(promptText(ctx.message.data), ctx.attempt, deltas);
    let pending: Array<{ type: 'delta'; text: string }> = [];
    for (const text of reply) {
      if (delayMs > 0 && !(await sleep(delayMs, ctx.signal))) throw ctx.signal.reason;
      pending.push({ type: 'delta', text });
      if (pending.length >= batchSize) {
        await ctx.publishBatch(pending);
        pending = [];
      }
    }
    if (pending.length > 0) await ctx.publishBatch(pending);
    await ctx.publish({ type: 'final', text: reply.join('') });
  };
}

let fromEnv: Handler | undefined;

/** The example agent configured from EXAMPLE_AGENT_* (read on first use). */
const exampleAgent: Handler = (ctx) => {
  fromEnv ??= createExampleAgent(exampleAgentOptionsFromEnv());
  return fromEnv(ctx);
};

export default exampleAgent;
