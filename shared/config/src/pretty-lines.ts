/**
 * Readable log lines for a person at a terminal: `12:00:01.234 WARN  edge  message  key=value`.
 * pino-pretty would do it, but is not a dependency here; pino's JSON lines are simple enough to
 * turn around in a few lines, and logs sent anywhere but a terminal stay JSON.
 */
import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';

const HIDDEN = new Set(['time', 'level', 'service', 'node', 'msg', 'pid', 'hostname']);

export function prettyLines(out: NodeJS.WritableStream): DestinationStream {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length > 0) out.write(`${pretty(line)}\n`);
      }
      done();
    },
  });
}

function pretty(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const level = String(record.level ?? '')
    .toUpperCase()
    .padEnd(5);
  const rest = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return [time, level, String(record.service ?? ''), String(record.msg ?? ''), rest]
    .filter((part) => part.length > 0)
    .join('  ');
}
