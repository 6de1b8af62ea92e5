import { connect } from 'node:net';

/** MONITOR quotes each argument and escapes `"`, `\`, `\n`, `\r`, `\t` and other bytes as `\xHH`. */
function unescapeArg(quoted: string): string {
  return quoted.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, c: string) => {
    if (c.length === 3) return String.fromCharCode(parseInt(c.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[c] ?? c;
  });
}

/**
 * Every command a Redis server runs, from MONITOR on a plain socket: `onCommand` gets each one's
 * arguments, unescaped. Not ioredis's `monitor()`: it fails with "Command queue state error"
 * when a monitored command arrives in the same read as MONITOR's own reply (seen in CI).
 * Resolves once MONITOR is on.
 */
export function monitorCommands(
  host: string,
  port: number,
  onCommand: (args: string[]) => void,
): Promise<{ stop(): void }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.write('MONITOR\r\n'));
    let buffered = '';
    let on = false;
    socket.setEncoding('latin1');
    socket.on('error', (error) => (on ? undefined : reject(error)));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf('\r\n');
      while (end !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf('\r\n');
        if (!on) {
          if (line !== '+OK') return reject(new Error(`MONITOR answered ${line}`));
          on = true;
          resolve({ stop: () => socket.destroy() });
          continue;
        }
        const body = line.slice(line.indexOf('] ') + 2);
        onCommand([...body.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => unescapeArg(m[1] ?? '')));
      }
    });
  });
}
