import type { ChildProcess } from 'node:child_process';

// Leak protection: every redis-server RedisServer starts is killed when the test process goes away,
// even if a test forgot destroy() or the run crashed. 'exit' handlers must be synchronous, hence
// process.kill. Vitest stops its fork workers with SIGTERM, which by default ends a Node process
// WITHOUT an 'exit' event, so the usual termination signals are handled too and then re-raised.
const liveProcesses = new Set<ChildProcess>();
const TERMINATING_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
let exitHooksInstalled = false;

function killAllSync(): void {
  for (const child of liveProcesses) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone: nothing to clean up.
    }
  }
  liveProcesses.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  killAllSync();
  for (const sig of TERMINATING_SIGNALS) process.off(sig, onTerminatingSignal);
  // Our listener suppressed Node's default "die on signal"; restore it unless someone else (vitest,
  // a service under test) handles the signal and therefore owns the shutdown.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** Kill `child` with this process, however it ends. */
export function trackRedisProcess(child: ChildProcess): void {
  if (!exitHooksInstalled) {
    exitHooksInstalled = true;
    process.on('exit', killAllSync);
    for (const sig of TERMINATING_SIGNALS) process.on(sig, onTerminatingSignal);
  }
  liveProcesses.add(child);
}

/** `child` exited by itself: nothing left to kill. */
export function untrackRedisProcess(child: ChildProcess): void {
  liveProcesses.delete(child);
}
