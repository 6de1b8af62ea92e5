import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@holdfast/testing';
import { startDemoStack, waitUntilGone, type DemoStack } from './demo-stack.js';
import { readReply } from './reply-log.js';

/** Debian's chromium package (scripts/ensure-deps.mjs installs it for `npm test`). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

let stack: DemoStack;
let profile: string;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  stack = await startDemoStack();
  profile = await mkdtemp(join(tmpdir(), 'holdfast-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await stack?.cleanUp();
});

const field = (name: string): Promise<string> => page.locator(`[data-field="${name}"]`).innerText();

/** Polls the page (through the browser) until `probe` holds. */
function until(probe: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<boolean> {
  return waitFor(() => probe(), { timeoutMs, intervalMs: 100, what });
}

describe('the demo page served by npm start, in Chromium', () => {
  it('streams a reply that survives a dropped connection, a stall and a reload mid-reply, shown exactly once', async () => {
    await page.goto(stack.demoUrl);
    await until(async () => (await field('state')) === 'open', 'the page to connect');
    const sessionId = await field('session');
    expect(sessionId).toMatch(/^demo-/);

    await page.fill('#prompt', 'What does Holdfast keep?');
    await page.click('button[type="submit"]');
    const turn = page.locator('.turn');
    await until(async () => (await turn.count()) === 1, 'the prompt to show');
    const messageId = (await turn.getAttribute('data-message-id')) ?? '';
    const parts = async (): Promise<number> => Number((await turn.getAttribute('data-parts')) ?? 0);
    const shownText = (): Promise<string> => turn.locator('.reply').innerText();
    const logged = () => readReply(stack, sessionId, messageId);

    /** What the page shows is exactly the first deltas of the log, each once, in order. */
    const expectShownIsLogPrefix = async (): Promise<void> => {
      // Text and count read in one go: the reply keeps streaming between two separate reads.
      const shown = await turn.evaluate((el) => ({
        text: el.querySelector('.reply')?.textContent ?? '',
        count: Number(el.getAttribute('data-parts') ?? 0),
      }));
      const log = await logged();
      expect(shown.count).toBeGreaterThan(0);
      expect(shown.text).toBe(log.deltas.slice(0, shown.count).join(''));
    };

    // Mid-reply: drop the connection; the stream goes on from the next offset.
    await until(async () => (await parts()) >= 20, 'the reply to start streaming');
    const beforeDrop = await parts();
    await page.click('#drop');
    await until(
      async () => (await page.locator('#events').innerText()).includes('stream continued at offset'),
      'the stream to continue after the drop',
    );
    await until(async () => (await parts()) > beforeDrop + 5, 'more of the reply after the drop');
    await expectShownIsLogPrefix();

    // Stall: the page stops handling, so no acks; the log's head moves on without it.
    await page.check('#stall');
    const handled = async (): Promise<number> => Number(await field('offset'));
    await until(
      async () => Number(await field('head')) > (await handled()) + 10,
      'the head to pass the stalled page',
    );
    const stalledAt = await handled();
    await until(
      async () => Number(await field('acked')) === stalledAt,
      'the ack to settle on the stalled offset',
    );
    expect(await handled()).toBe(stalledAt);
    await page.uncheck('#stall');
    await until(async () => (await handled()) > stalledAt, 'handling to resume after the stall');
    await until(async () => Number(await field('acked')) > stalledAt, 'acks to resume after the stall');
    await expectShownIsLogPrefix();

    // Reload while the worker is still streaming: the transcript is rebuilt from the log.
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-page-mid-reply.png'), fullPage: true });
    expect((await logged()).final, 'the reply was already complete before the reload').toBeUndefined();
    expect(await turn.getAttribute('data-state')).toBe('streaming');
    await page.reload();
    await until(
      async () => (await page.locator('.turn').count()) === 1,
      'the transcript to be rebuilt after the reload',
    );
    await until(
      async () => (await turn.getAttribute('data-state')) === 'complete',
      'the reply to complete after the reload',
      60_000,
    );

    const log = await logged();
    expect(log.final).toBeDefined();
    expect(log.deltas).toHaveLength(400);
    expect(log.deltas.join('')).toBe(log.final);
    expect(await page.locator(`.turn[data-message-id="${messageId}"]`).count()).toBe(1);
    expect(await shownText()).toBe(log.final);
    expect(await parts()).toBe(log.deltas.length + 1);
    expect(await turn.locator('.prompt').innerText()).toBe('What does Holdfast keep?');

    await page.screenshot({ path: join(ARTIFACTS, 'demo-page.png'), fullPage: true });
  }, 150_000); // a 16 s reply, waited for with generous margins on a loaded machine

  it('starts a new session when the saved one has ended', async () => {
    const ended = await field('session');
    const res = await fetch(`${stack.apiUrl}/v1/sessions/${ended}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    expect(res.status).toBe(204);
    await until(async () => (await field('state')) === 'closed (session_ended)', 'the page to see the end');

    await page.reload();
    await until(async () => (await field('state')) === 'open', 'the page to connect to a new session');
    expect(await field('session')).toMatch(/^demo-/);
    expect(await field('session')).not.toBe(ended);
    expect(await page.locator('.turn').count()).toBe(0);
  });

  it('stops every process npm start started on SIGINT', async () => {
    const children = stack.children();
    expect(children.length).toBeGreaterThanOrEqual(4); // redis, edge, api, worker (and esbuild)
    const exit = await stack.interrupt();
    expect(exit).toEqual({ code: 0, signal: null });
    await waitUntilGone(children);
  });
});
