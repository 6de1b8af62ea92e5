// First, before the SDK: socket.io-client takes the WebSocket constructor when it is loaded.
import { dropConnections } from './tracked-websocket.js';
import { connect, createReplyAssembler, localStorageStore } from '@holdfast/client';
import {
  completeSession,
  forgetEverything,
  freshToken,
  logStatus,
  promptText,
  rememberPrompt,
  usableSession,
} from './demo-backend.js';
import { StallGate } from './stall-gate.js';
import { Transcript, element, isFinal, note, showStatus, type AgentPart } from './view.js';

/** Tokens living at least this much longer are used as they are; older ones are replaced first. */
const TOKEN_MARGIN_MS = 10_000;

const demo = await usableSession().catch((error: unknown) => {
  showStatus({ state: `no session: ${(error as Error).message}` });
  throw error;
});
const transcript = new Transcript(element('transcript'), (id) => promptText(demo.sessionId, id));
const stall = new StallGate();
showStatus({ session: demo.sessionId });

const session = connect(demo.edgeUrl, {
  sessionId: demo.sessionId,
  ...(demo.tokenExpiresAt > Date.now() + TOKEN_MARGIN_MS ? { token: demo.token } : {}),
  getToken: () => freshToken(demo),
  // localStorage keeps the outbox: a prompt not yet accepted when the page reloads is sent again.
  store: localStorageStore(),
  // The transcript lives in the DOM, so every page load rebuilds it from the log, then goes live.
  from: 'start',
});
const replies = createReplyAssembler<AgentPart>({
  isFinal,
  onChange: (reply) => transcript.showReply(reply),
});
replies.attach(session);

/** Set when a connection was lost: the offset handled last, to show where the stream continues. */
let lostAfter: number | undefined;

session.on('reset', ({ firstAvailable, newEpoch }) => {
  transcript.clear();
  note(`rebuilding the transcript from the log: epoch ${newEpoch}, from offset ${firstAvailable}`);
});
session.on('message', async ({ epoch, offset }) => {
  // While stalled the message waits here: not handled, so not acknowledged.
  await stall.passed();
  if (lostAfter !== undefined) {
    note(`stream continued at offset ${offset} (the last one handled was ${lostAfter})`);
    lostAfter = undefined;
  }
  showStatus({ epoch, offset, pending: session.pendingSends });
});
// A completed session (its normal end) shows as "complete" once every message was handled.
session.on('complete', ({ finalOffset }) => {
  showStatus({ state: 'complete' });
  note(`complete: the session ended normally at offset ${finalOffset}; press "New session" to start another`);
});
session.on('state', ({ state, reason }) => {
  if (reason === 'session_completed') return; // shown by 'complete' above
  showStatus({ state: reason ? `${state} (${reason})` : state });
  note(reason ? `${state}: ${reason}` : state);
  if (state === 'resuming') lostAfter ??= session.position?.offset ?? 0;
  if (reason === 'session_ended' || reason === 'session_not_found') {
    note('this session is gone: press "New session"');
  }
});
session.on('error', (error) => note(`error ${error.code}: ${error.message}`));

element<HTMLFormElement>('prompt-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = element<HTMLInputElement>('prompt');
  const text = input.value.trim();
  if (text === '') return;
  input.value = '';
  // The id is ours, so the prompt is remembered before it is sent (a reload may come in between).
  const id = crypto.randomUUID();
  rememberPrompt(demo.sessionId, id, text);
  transcript.turn(id);
  const sent = session.send({ text }, { id });
  showStatus({ pending: session.pendingSends });
  sent.then(
    ({ seq }) => note(`prompt stored in the session's inbox (seq ${seq})`),
    (error: Error) => note(`send failed: ${error.message}`),
  );
});

element('drop').addEventListener('click', () => {
  const dropped = dropConnections();
  note(
    dropped ? `dropped the connection after offset ${session.position?.offset ?? 0}` : 'no open connection',
  );
});

element<HTMLInputElement>('stall').addEventListener('change', (event) => {
  const stalled = (event.target as HTMLInputElement).checked;
  stall.set(stalled);
  note(
    stalled ? `stalled after offset ${session.position?.offset ?? 0}: no more acks` : 'released the stall',
  );
});

// Completing the session is its normal end, so it is a button of its own: one conversation takes
// many prompts, and the worker ends each reply (a 'final' part), not the session.
element('end-conversation').addEventListener('click', () => {
  completeSession(demo.sessionId).catch((error: unknown) => note(`could not end: ${String(error)}`));
});

element('new-session').addEventListener('click', () => {
  session
    .close()
    .then(() => {
      forgetEverything();
      location.reload();
    })
    .catch((error: unknown) => note(`could not close the session: ${String(error)}`));
});

addEventListener('pagehide', () => void session.close());

// The acknowledged offset as Redis holds it, and the log's head: while stalled, the head moves on
// and the ack stays put.
async function pollLog(): Promise<void> {
  try {
    const { head, acked } = await logStatus(demo.sessionId);
    showStatus({ head, acked });
  } catch {
    showStatus({ head: '?', acked: '?' });
  }
  setTimeout(() => void pollLog(), 500);
}
void pollLog();
