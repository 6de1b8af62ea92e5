import { describe, expect, it } from 'vitest';
import { createReplyAssembler } from '../../shared/client/src/replies.js';

type Part = { type: 'delta' | 'final'; text: string };
const reply = (messageId: string, offset: number, data: Part) => ({
  messageId,
  attempt: 1,
  data,
  epoch: 'e',
  offset,
});

describe('reply assembler: session completion', () => {
  it('fails replies still open with session_completed and keeps finished ones; settled never hangs after it', async () => {
    const assembler = createReplyAssembler<Part>({ isFinal: (part) => part.type === 'final' });
    assembler.reply(reply('done', 1, { type: 'final', text: 'a' }));
    assembler.reply(reply('open', 2, { type: 'delta', text: 'b' }));
    const waiting = assembler.settled('open');
    assembler.sessionCompleted();
    expect(await waiting).toMatchObject({
      messageId: 'open',
      complete: false,
      error: { code: 'session_completed' },
    });
    expect(assembler.get('done')).toMatchObject({ complete: true });
    expect(assembler.get('done')?.error).toBeUndefined();
    expect(await assembler.settled('never-seen')).toMatchObject({ error: { code: 'session_completed' } });
  });
});
