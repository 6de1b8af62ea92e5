import { fileURLToPath } from 'node:url';
import { buildBrowserBundle as bundle, type BrowserBundle } from '@holdfast/testing';

export type { BrowserBundle };

const ENTRY = fileURLToPath(new URL('../../shared/client/src/index.ts', import.meta.url));

/** Bundles the client SDK as a browser app would: ESM, minified, every dependency inlined. */
export function buildBrowserBundle(): Promise<BrowserBundle> {
  return bundle(ENTRY);
}
