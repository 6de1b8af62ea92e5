/**
 * The page's side of the demo back end (demo/server): it creates sessions and mints tokens with
 * the API key, which never leaves the server. The session id and its latest token are kept in
 * localStorage, so a reload continues the same session.
 */
export interface DemoSession {
  readonly sessionId: string;
  readonly token: string;
  readonly tokenExpiresAt: number;
  /** Where the page connects (the edge, or HAProxy in front of several). */
  readonly edgeUrl: string;
}

/** What Redis holds for the session: the log's head and the demo consumer's acknowledged offset. */
export interface LogStatus {
  readonly epoch: string;
  readonly head: number;
  readonly acked: number;
}

const SESSION_KEY = 'holdfast-demo:session';

/** A refusal of the demo back end (or of the Holdfast API behind it), with its `code`. */
export class BackendError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string): Promise<T> {
  const res = await fetch(path, { method });
  const body = (await res.json()) as T & { code?: string; message?: string };
  if (!res.ok) {
    throw new BackendError(
      res.status,
      body.code ?? '',
      `${method} ${path}: ${res.status} ${body.message ?? ''}`,
    );
  }
  return body;
}

export function savedSession(): DemoSession | undefined {
  const text = localStorage.getItem(SESSION_KEY);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as DemoSession;
  } catch {
    return undefined;
  }
}

/**
 * The saved session if Redis still has it, else a new one: a session outlives page loads, but
 * not a wiped data folder or its idle expiry.
 */
export async function usableSession(): Promise<DemoSession> {
  const saved = savedSession();
  if (saved) {
    try {
      await logStatus(saved.sessionId);
      return saved;
    } catch (error) {
      const gone =
        error instanceof BackendError && ['session_not_found', 'session_ended'].includes(error.code);
      if (!gone) throw error;
    }
  }
  return createSession();
}

export async function createSession(): Promise<DemoSession> {
  const session = await call<DemoSession>('POST', '/api/sessions');
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** A new short-lived token for the session (the SDK asks when it needs one). */
export async function freshToken(session: DemoSession): Promise<string> {
  const { token, tokenExpiresAt } = await call<{ token: string; tokenExpiresAt: number }>(
    'POST',
    `/api/sessions/${encodeURIComponent(session.sessionId)}/token`,
  );
  localStorage.setItem(SESSION_KEY, JSON.stringify({ ...session, token, tokenExpiresAt }));
  return token;
}

/** Ends the conversation for good (the session's normal end): the page then shows "complete". */
export async function completeSession(sessionId: string): Promise<void> {
  await call('POST', `/api/sessions/${encodeURIComponent(sessionId)}/complete`);
}

export function logStatus(sessionId: string): Promise<LogStatus> {
  return call<LogStatus>('GET', `/api/sessions/${encodeURIComponent(sessionId)}/status`);
}

/** Forgets the session and everything the page stored for it (positions, outbox, prompts). */
export function forgetEverything(): void {
  localStorage.clear();
}

/** Prompts are inbound messages, not part of the session's log: the page keeps their text itself. */
export function rememberPrompt(sessionId: string, messageId: string, text: string): void {
  const key = `holdfast-demo:prompts:${sessionId}`;
  const prompts = JSON.parse(localStorage.getItem(key) ?? '{}') as Record<string, string>;
  localStorage.setItem(key, JSON.stringify({ ...prompts, [messageId]: text }));
}

export function promptText(sessionId: string, messageId: string): string | undefined {
  const prompts = JSON.parse(localStorage.getItem(`holdfast-demo:prompts:${sessionId}`) ?? '{}') as Record<
    string,
    string
  >;
  return prompts[messageId];
}
