import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildBrowserBundle } from '@holdfast/testing';
import { ApiAnswerError, DEMO_SESSION_PATTERN, HoldfastApi } from './holdfast-api.js';

const PAGE_DIR = new URL('../page/', import.meta.url);

export interface DemoServerOptions {
  /** 0 = a free port. */
  readonly port: number;
  /** @default '127.0.0.1': the server holds an API key, so it is for this machine only. */
  readonly host?: string;
  readonly apiUrl: string;
  readonly apiKey: string;
  /** The edge URL the page connects to, as the browser reaches it. */
  readonly edgeUrl: string;
  /** @default 300 */
  readonly tokenTtlSeconds?: number;
}

export interface DemoServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The demo page's own back end, run by `npm start` only: it serves the page (bundled with the
 * client SDK at start-up) and the three calls the page needs, made against the Holdfast API with
 * the API key, which never reaches the browser. This is the shape docs/client.md recommends for
 * any browser app: the app's back end mints the tokens.
 *
 *   POST /api/sessions                  → { sessionId, token, tokenExpiresAt, edgeUrl }
 *   POST /api/sessions/:id/token        → { token, tokenExpiresAt }  (demo sessions only)
 *   GET  /api/sessions/:id/status       → { epoch, head, acked }     (the page's ack in Redis)
 *   POST /api/sessions/:id/complete     → { epoch, finalOffset }     (ends the conversation)
 */
export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const [html, bundle] = await Promise.all([
    readFile(new URL('index.html', PAGE_DIR), 'utf8'),
    buildBrowserBundle(fileURLToPath(new URL('main.ts', PAGE_DIR))),
  ]);
  const api = new HoldfastApi({
    apiUrl: options.apiUrl,
    apiKey: options.apiKey,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 300,
  });

  const route = async (req: IncomingMessage): Promise<Answer> => {
    const { pathname } = new URL(req.url ?? '/', 'http://demo');
    if (req.method === 'GET' && (pathname === '/' || pathname === '/index.html')) {
      return { status: 200, type: 'text/html; charset=utf-8', body: html };
    }
    if (req.method === 'GET' && pathname === '/demo.js') {
      return { status: 200, type: 'text/javascript; charset=utf-8', body: bundle.code };
    }
    if (req.method === 'POST' && pathname === '/api/sessions') {
      return json(201, { ...(await api.createSession()), edgeUrl: options.edgeUrl });
    }
    const match = /^\/api\/sessions\/([^/]+)\/(token|status|complete)$/.exec(pathname);
    if (match) {
      const [, sessionId = '', what] = match;
      if (!DEMO_SESSION_PATTERN.test(sessionId)) {
        return json(400, { code: 'invalid_session_id', message: 'the demo serves demo-… sessions only' });
      }
      if (what === 'token' && req.method === 'POST') return json(200, await api.issueToken(sessionId));
      if (what === 'status' && req.method === 'GET') return json(200, await api.logStatus(sessionId));
      if (what === 'complete' && req.method === 'POST') return json(200, await api.complete(sessionId));
    }
    return json(404, { code: 'not_found', message: `no route ${req.method} ${pathname}` });
  };

  const server = createServer((req, res) => {
    req.resume(); // no route reads a body
    route(req).then(
      (answer) => send(res, answer),
      (error: unknown) =>
        send(
          res,
          error instanceof ApiAnswerError
            ? json(error.status, error.body)
            : json(502, { code: 'api_unreachable', message: `the Holdfast API failed: ${String(error)}` }),
        ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

function json(status: number, value: unknown): Answer {
  return { status, type: 'application/json', body: JSON.stringify(value) };
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { 'content-type': answer.type, 'cache-control': 'no-store' });
  res.end(answer.body);
}
