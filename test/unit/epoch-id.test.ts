import { describe, expect, it } from 'vitest';
import { newEpoch } from '../../shared/session-log/src/epoch-id.js';

describe('newEpoch', () => {
  it('draws distinct 96-bit URL-safe ids, across refills of its pool', () => {
    // Well past one pool of 256, so refills are crossed several times.
    const ids = Array.from({ length: 2000 }, () => newEpoch());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
