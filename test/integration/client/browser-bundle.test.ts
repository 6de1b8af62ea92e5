import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type * as Sdk from '@holdfast/client';
import { buildBrowserBundle } from '../../helpers/client-browser-bundle.js';
import { useClientCluster } from '../../helpers/client-fixture.js';
import { SessionRecorder } from '../../helpers/client-recorder.js';
import { tokenFor } from '@holdfast/testing';

const cluster = useClientCluster();
let dir: string | undefined;
let sdk: typeof Sdk;

beforeAll(async () => {
  // The minified browser build (socket.io-client's browser transports), loaded from a file as a
  // page would load it; the only thing a browser adds is its WebSocket.
  const { code } = await buildBrowserBundle();
  dir = await mkdtemp(join(tmpdir(), 'holdfast-client-bundle-'));
  const file = join(dir, 'holdfast-client.min.mjs');
  await writeFile(file, code);
  vi.stubGlobal('WebSocket', WebSocket);
  sdk = (await import(pathToFileURL(file).href)) as typeof Sdk;
});
afterAll(async () => {
  vi.unstubAllGlobals();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Web Storage as a browser keeps it across page loads. */
class PageStorage implements Sdk.StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe('the browser bundle against a real edge', () => {
  it('delivers exactly once, and a reloaded page resumes from localStorage where it stopped', async () => {
    const edge = await cluster.sharedEdge();
    const { sessionId, epoch } = await cluster.newSession();
    const storage = new PageStorage();
    const getToken = (): Promise<string> => tokenFor(sessionId);
    await cluster.publish(sessionId, 1, 50);

    const page1 = sdk.connect(edge.url, { sessionId, getToken, store: sdk.localStorageStore(storage) });
    const app1 = new SessionRecorder(page1);
    await app1.waitForOffset(50);
    await page1.close();
    expect(storage.items.get(`holdfast:${sessionId}`)).toBe(JSON.stringify({ epoch, offset: 50 }));

    await cluster.publish(sessionId, 51, 30);
    const page2 = cluster.track(
      sdk.connect(edge.url, { sessionId, getToken, store: sdk.localStorageStore(storage) }),
    );
    const app2 = new SessionRecorder(page2);
    await app2.waitForOffset(80);

    app1.expectExactlyOnce(1, 50);
    app2.expectExactlyOnce(51, 80);
    expect(app2.errors).toEqual([]);
    expect(page2.state).toBe('open');
  });
});
