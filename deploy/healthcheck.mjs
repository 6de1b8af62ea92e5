// The image's HEALTHCHECK: liveness of the service in this container, from /healthz on its PORT
// (the edge and the API both serve it; the worker serves no HTTP, and compose disables the check
// for it). Exit 0 when healthy, 1 otherwise. Built-ins only: it runs in the runtime image.
/* global fetch, AbortSignal */
const port = process.env.PORT ?? '8080';
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
  process.exit(res.ok ? 0 : 1);
} catch (error) {
  console.error(`healthcheck: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
