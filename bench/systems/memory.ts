import { writeHeapSnapshot } from 'node:v8';

/** Write a heap snapshot after a full GC (bench/probes/idle-heap.ts reads it). */
export function heapSnapshotAfterGc({ path }: { path: string }): { path: string } {
  memoryAfterGc();
  return { path: writeHeapSnapshot(path) };
}

/** This process's memory after a full GC when --expose-gc is on (so heap figures are retained data). */
export function memoryAfterGc(): { rss: number; heapUsed: number; external: number; gc: boolean } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, gc: gc !== undefined };
}
