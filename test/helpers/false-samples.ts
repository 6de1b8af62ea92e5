/**
 * Samples `probe` every 20 ms for `ms`; resolves with the number of samples where it was false.
 * For "never flaps" checks: a readiness or liveness flag watched over a stretch of load.
 */
export async function falseSamples(probe: () => boolean, ms: number): Promise<number> {
  let falses = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!probe()) falses += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return falses;
}
