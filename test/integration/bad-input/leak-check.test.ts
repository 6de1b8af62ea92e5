import { expect, it } from 'vitest';
import { runLeakCheck } from '../../bad-input/leak-check.js';

// The short leak check: every hostile case of this suite, 2,000 connections in all, against one
// edge, heap sampled after a forced GC. The full run (20,000 and more) is
// `node --conditions=source --import tsx test/bad-input/leak-check.ts --iterations 20000`.
it('repeating the hostile cases leaves no sustained heap growth and no handles or connections behind', async () => {
  const result = await runLeakCheck({ iterations: 2000, concurrency: 8, samples: 8 });
  const { samples: _samples, ...summary } = result;
  expect(result.problems, JSON.stringify(summary, null, 2)).toEqual([]);
  expect(result.ok).toBe(true);
  expect(result.iterations).toBe(2000);
  for (const count of Object.values(result.caseCounts)) expect(count).toBeGreaterThan(250);
  expect(result.final).toMatchObject({ engineConnections: 0, sessionConnections: 0, clientAddresses: 0 });
}, 120_000);
