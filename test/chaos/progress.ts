import type { ClientFleet } from './clients.js';
import type { FaultLog } from './fault-log.js';
import type { SessionLedger } from './ledger.js';
import type { RssSampler } from './memory.js';

export interface ProgressSource {
  readonly startedAt: number;
  phase: string;
  readonly ledgers: readonly SessionLedger[];
  readonly faults: FaultLog;
  readonly clients: ClientFleet;
  readonly rss: RssSampler;
}

/** One line every few seconds while the run goes on: never minutes of silence. */
export function startProgress(source: ProgressSource, everyMs: number): () => void {
  const timer = setInterval(() => console.log(progressLine(source)), everyMs);
  return () => clearInterval(timer);
}

export function progressLine(s: ProgressSource): string {
  let acked = 0;
  let pending = 0;
  let deliveredKeys = 0;
  let delivered = 0;
  let sends = 0;
  let answered = 0;
  for (const ledger of s.ledgers) {
    for (const record of ledger.appends.values()) {
      if (record.state === 'acked') acked++;
      else pending++;
    }
    deliveredKeys += ledger.everDelivered.size;
    delivered += ledger.delivered;
    for (const send of ledger.sends.values()) if (send.acked) sends++;
    answered += [...ledger.view.replies.values()].filter((r) => r.finals.size > 0).length;
  }
  const open = s.clients.clients.filter((c) => c.session.state === 'open').length;
  const completed = s.ledgers.filter((l) => l.completes.length > 0).length;
  const last = s.faults.events.at(-1);
  const elapsed = ((Date.now() - s.startedAt) / 1000).toFixed(0).padStart(4);
  return (
    `[${elapsed}s] ${s.phase.padEnd(10)} faults ${s.faults.count}${last ? ` (last ${last.kind})` : ''} | ` +
    `appends acked ${acked} (pending ${pending}) | delivered ${delivered} | lag ${Math.max(0, acked - deliveredKeys)} | ` +
    `inbound acked ${sends}, answered ${answered} | open ${open}/${s.clients.clients.length}, completed ${completed} | ` +
    `edge rss peak ${(s.rss.peak / 2 ** 20).toFixed(0)} MiB`
  );
}
