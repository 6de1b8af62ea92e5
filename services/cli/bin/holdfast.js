#!/usr/bin/env node
// `npx holdfast`. In a checkout (right after `npm ci`, before any build) it runs the TypeScript
// sources through tsx, with workspace packages resolved to their sources as the tests and
// `npm start` do; in a built image (no src/, no tsx) it runs the compiled dist/.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/main.ts', import.meta.url);

async function tsxApi() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const tsx = existsSync(fileURLToPath(source)) ? await tsxApi() : undefined;
if (tsx) {
  tsx.register();
  // Registered after tsx, so it runs first and hands tsx the "source" condition.
  register('./source-condition.js', import.meta.url);
  await import(source.href);
} else {
  await import('../dist/main.js');
}
