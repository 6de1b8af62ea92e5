import { describe, expect, it } from 'vitest';
import { completeViolation } from '../../shared/client/src/completion.js';

const at = (offset: number, epoch = 'e1') => ({ epoch, offset });

describe('completeViolation', () => {
  it('accepts a complete at exactly what arrived, the app having handled it or not yet', () => {
    expect(completeViolation({ epoch: 'e1', finalOffset: 5 }, at(5), at(5))).toBeUndefined();
    expect(completeViolation({ epoch: 'e1', finalOffset: 5 }, at(5), at(2))).toBeUndefined(); // handlers still running
    expect(completeViolation({ epoch: 'e1', finalOffset: 0 }, at(0), undefined)).toBeUndefined(); // nothing was ever appended
  });

  it('refuses a complete below the handled offset, of another epoch, or not matching what arrived', () => {
    expect(completeViolation({ epoch: 'e1', finalOffset: 3 }, at(5), at(5))).toMatch(/below the handled/);
    expect(completeViolation({ epoch: 'e2', finalOffset: 5 }, at(5), at(5))).toMatch(/epoch e2/);
    expect(completeViolation({ epoch: 'e1', finalOffset: 7 }, at(5), at(5))).toMatch(/up to 5 arrived/);
    expect(completeViolation({ epoch: 'e1', finalOffset: 4 }, at(5), at(2))).toMatch(/up to 5 arrived/);
    expect(completeViolation({ epoch: 'e1', finalOffset: 5 }, undefined, undefined)).toMatch(/no epoch yet/);
    expect(completeViolation({ epoch: 'e1' }, at(5), at(5))).toBe('a malformed complete');
    expect(completeViolation(null, at(5), at(5))).toBe('a malformed complete');
  });
});
