import { runCli } from './cli.js';

/**
 * `holdfast` process entry point (started by bin/holdfast.js). Ctrl-C and SIGTERM abort the
 * running command (tail stops cleanly); a second one exits at once.
 */
const interruption = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interruption.signal.aborted) process.exit(130);
    interruption.abort();
  });
}

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTty: process.stderr.isTTY === true,
  env: process.env,
  interrupted: interruption.signal,
});
// Every connection is closed by now; exit rather than wait for stray timers of libraries.
process.exitCode = code;
process.stdout.write('', () => process.exit(code));
