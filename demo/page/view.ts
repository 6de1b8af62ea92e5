import type { AssembledReply } from '@holdfast/client';

/** What the example agent publishes (services/worker/src/handlers/example-agent.ts). */
export interface AgentPart {
  readonly type: 'delta' | 'final';
  readonly text: string;
}

export const isFinal = (part: AgentPart): boolean => part.type === 'final';

export function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** Fields of the status panel, each shown in the element with `data-field="<name>"`. */
export type StatusField = 'session' | 'state' | 'epoch' | 'offset' | 'acked' | 'head' | 'pending';

export function showStatus(fields: Partial<Record<StatusField, string | number>>): void {
  for (const [name, value] of Object.entries(fields)) {
    const cell = document.querySelector(`[data-field="${name}"]`);
    if (cell) cell.textContent = String(value);
  }
}

function child(parent: HTMLElement, selector: string): HTMLElement {
  const found = parent.querySelector<HTMLElement>(selector);
  if (!found) throw new Error(`no ${selector} in the turn`);
  return found;
}

/** A line in the event list, newest first. */
export function note(text: string): void {
  const list = element<HTMLOListElement>('events');
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  list.prepend(item);
  while (list.children.length > 30) list.lastElementChild?.remove();
}

/**
 * The conversation: one `<article>` per prompt, holding the prompt and its reply. The reply text
 * is the streamed deltas joined, exactly as they arrived; once the final part is in it is checked
 * against the final text, so a lost or repeated delta would show as a mismatch.
 */
export class Transcript {
  readonly #turns = new Map<string, HTMLElement>();

  constructor(
    private readonly root: HTMLElement,
    private readonly promptOf: (messageId: string) => string | undefined,
  ) {}

  clear(): void {
    this.#turns.clear();
    this.root.replaceChildren();
  }

  /** The turn of `messageId`, created (at the end) with its prompt the first time. */
  turn(messageId: string): HTMLElement {
    let turn = this.#turns.get(messageId);
    if (!turn) {
      turn = document.createElement('article');
      turn.className = 'turn';
      turn.dataset.messageId = messageId;
      turn.dataset.state = 'waiting';
      const prompt = document.createElement('p');
      prompt.className = 'prompt';
      prompt.textContent = this.promptOf(messageId) ?? '(a prompt sent from another page)';
      const reply = document.createElement('p');
      reply.className = 'reply';
      const meta = document.createElement('p');
      meta.className = 'meta';
      meta.textContent = 'waiting for the agent';
      turn.append(prompt, reply, meta);
      this.#turns.set(messageId, turn);
      this.root.append(turn);
    }
    return turn;
  }

  showReply(reply: AssembledReply<AgentPart>): void {
    const turn = this.turn(reply.messageId);
    const deltas = reply.parts.filter((part) => part.type === 'delta');
    const text = deltas.map((part) => part.text).join('');
    const final = reply.parts.find(isFinal);
    const state = reply.error
      ? 'failed'
      : !reply.complete
        ? 'streaming'
        : final?.text === text
          ? 'complete'
          : 'mismatch';
    turn.dataset.state = state;
    turn.dataset.parts = String(reply.parts.length);
    child(turn, '.reply').textContent = text;
    const discarded = reply.abortedAttempts.length
      ? ` (discarded attempt ${reply.abortedAttempts.join(', ')})`
      : '';
    const what = {
      streaming: `streaming: ${deltas.length} deltas so far`,
      complete: `complete: ${deltas.length} deltas, equal to the final text`,
      mismatch: 'the deltas do not add up to the final text',
      failed: `failed: ${reply.error?.message ?? ''}`,
    }[state];
    child(turn, '.meta').textContent = `attempt ${reply.attempt}${discarded} · ${what}`;
  }
}
