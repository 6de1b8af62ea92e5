import { readFile } from 'node:fs/promises';
import { waitFor } from './wait-for.js';

/** Waits (Linux /proc only) until the kernel reports the signalled state, so callers can rely on it. */
export async function waitForProcState(
  pid: number,
  accept: (state: string) => boolean,
  what: string,
): Promise<void> {
  const statFile = `/proc/${pid}/stat`;
  const readState = async (): Promise<string | undefined> => {
    try {
      const text = await readFile(statFile, 'utf8');
      // Format: "pid (comm) S ..."; comm may itself contain spaces and parentheses.
      return text.slice(text.lastIndexOf(')') + 2).charAt(0);
    } catch {
      return undefined;
    }
  };
  if ((await readState()) === undefined) return; // No procfs (macOS): signals are all we have.
  await waitFor(async () => accept((await readState()) ?? ''), {
    timeoutMs: 5_000,
    intervalMs: 5,
    what: `redis-server pid ${pid} to be ${what}`,
  });
}
