/** A pause in a load loop (the load's own pace, not a wait for a condition). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
