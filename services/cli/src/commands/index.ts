import type { Command } from '../command.js';
import { edgesDrain } from './edges-drain.js';
import { edgesList } from './edges-list.js';
import { sessionsComplete } from './sessions-complete.js';
import { sessionsDelete } from './sessions-delete.js';
import { sessionsInspect } from './sessions-inspect.js';
import { sessionsList } from './sessions-list.js';
import { sessionsTail } from './sessions-tail.js';
import { tokensMint } from './tokens-mint.js';

/** Every command, in the order help lists them. */
export const COMMANDS: readonly Command[] = [
  sessionsList,
  sessionsInspect,
  sessionsTail,
  sessionsComplete,
  sessionsDelete,
  tokensMint,
  edgesList,
  edgesDrain,
];
