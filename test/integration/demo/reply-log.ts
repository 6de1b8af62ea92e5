import { isWorkerEnvelope, type ReplyEnvelope, type WorkerEnvelope } from '@holdfast/protocol';

interface AgentPart {
  readonly type: 'delta' | 'final';
  readonly text: string;
}

/** The reply to one prompt as the session's log holds it, read through the HTTP API. */
export interface LoggedReply {
  /** The attempt whose parts count (the highest one that published). */
  readonly attempt: number;
  readonly deltas: readonly string[];
  /** The final part's text, once it is in the log. */
  readonly final: string | undefined;
}

export async function readReply(
  api: { apiUrl: string; apiKey: string },
  sessionId: string,
  messageId: string,
): Promise<LoggedReply> {
  const res = await fetch(`${api.apiUrl}/v1/sessions/${sessionId}/messages?from=1&limit=10000`, {
    headers: { authorization: `Bearer ${api.apiKey}` },
  });
  if (!res.ok) throw new Error(`reading the log: ${res.status} ${await res.text()}`);
  const { messages } = (await res.json()) as { messages: Array<{ offset: number; data: unknown }> };
  const replies = messages
    .map((m) => m.data)
    .filter(isWorkerEnvelope)
    .filter((e: WorkerEnvelope): e is ReplyEnvelope => e.$holdfast === 'reply' && e.messageId === messageId);
  const attempt = Math.max(0, ...replies.map((e) => e.attempt));
  const parts = replies.filter((e) => e.attempt === attempt).map((e) => e.data as AgentPart);
  return {
    attempt,
    deltas: parts.filter((p) => p.type === 'delta').map((p) => p.text),
    final: parts.find((p) => p.type === 'final')?.text,
  };
}
