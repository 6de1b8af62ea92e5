/**
 * Open connections per key (a client address, a session), for the edge's concurrent-connection
 * limits. Counted per edge: the limit protects this process's memory and sockets, and a count
 * kept in Redis would need a write per connect and disconnect and leak when an edge is killed.
 */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>();

  /** Count one more for `key` unless it already has `limit` (0 = no limit); true when counted. */
  tryAcquire(key: string, limit: number): boolean {
    const current = this.counts.get(key) ?? 0;
    if (limit > 0 && current >= limit) return false;
    this.counts.set(key, current + 1);
    return true;
  }

  release(key: string): void {
    const current = this.counts.get(key) ?? 0;
    if (current <= 1) this.counts.delete(key);
    else this.counts.set(key, current - 1);
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Keys with at least one connection (a map that drains back to empty shows no leak). */
  get size(): number {
    return this.counts.size;
  }
}
