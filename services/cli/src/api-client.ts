import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { exitCodeOf } from './failures.js';
import type { Settings } from './settings.js';

/**
 * The Holdfast HTTP API, as the CLI uses it: one request at a time with the API key and a
 * deadline, no retries (an operator reruns the command), every failure turned into a one-line
 * CliError with the exit code its class deserves.
 */
export class ApiClient {
  private readonly url: string;
  private readonly key: string;
  private readonly timeoutMs: number;

  constructor(settings: Settings) {
    // Read the key first: a missing key is the clearer message when the URL is default anyway.
    this.key = settings.apiKey;
    this.url = settings.apiUrl;
    this.timeoutMs = settings.timeoutMs;
  }

  /** The parsed JSON body of a 2xx answer (undefined for 204). */
  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new CliError(
        ExitCode.Unreachable,
        `cannot reach the API at ${this.url}: ${networkReason(error, this.timeoutMs)}`,
      );
    }
    const text = await response.text();
    if (response.ok) return (text === '' ? undefined : JSON.parse(text)) as T;
    throw this.failure(response.status, text);
  }

  private failure(status: number, text: string): CliError {
    let code = `http_${status}`;
    let message = text.slice(0, 200);
    try {
      const body = JSON.parse(text) as { code?: unknown; message?: unknown };
      if (typeof body.code === 'string') code = body.code;
      if (typeof body.message === 'string') message = body.message;
    } catch {
      // Not one of the API's JSON errors (a proxy's page?): report the status and the start of it.
    }
    if (code === 'unauthorized' || status === 401) {
      return new CliError(
        ExitCode.Unauthorized,
        `the API at ${this.url} refused the API key (check HOLDFAST_API_KEY)`,
      );
    }
    if (code === 'not_found') {
      // No such route: not a Holdfast API, or an older one.
      return new CliError(ExitCode.Failure, `the API at ${this.url} has no such route (${message})`);
    }
    return new CliError(exitCodeOf(code), `${code}: ${message}`);
  }
}

/** Why fetch failed, in a few words: the socket error's code, or the deadline. */
export function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
