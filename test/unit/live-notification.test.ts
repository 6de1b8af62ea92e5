import { describe, expect, it } from 'vitest';
import { decodeLiveNotification, type LiveEntries } from '@holdfast/session-log';

describe('decodeLiveNotification', () => {
  it('reads the header without parsing the data, and parses the data once on demand', () => {
    const n = decodeLiveNotification('{"e":"Ab-9_","o":41,"n":2,"d":[{"x":1},"two"]}') as LiveEntries;
    expect(n).toMatchObject({ kind: 'entries', epoch: 'Ab-9_', from: 41, count: 2 });
    expect(n.data()).toEqual([{ x: 1 }, 'two']);
    expect(n.data()).toBe(n.data());
  });

  it('reads when the entries were stored, when the script says (older scripts did not)', () => {
    const n = decodeLiveNotification('{"e":"E","o":3,"n":1,"t":1765000000123,"d":["x"]}') as LiveEntries;
    expect(n).toMatchObject({ from: 3, count: 1, storedAt: 1765000000123 });
    expect(n.data()).toEqual(['x']);
    expect(
      (decodeLiveNotification('{"e":"E","o":3,"n":1,"d":["x"]}') as LiveEntries).storedAt,
    ).toBeUndefined();
  });

  it('reads epoch changes and session ends', () => {
    expect(decodeLiveNotification('{"e":"E2","o":7,"n":0,"d":[]}')).toMatchObject({
      kind: 'entries',
      count: 0,
    });
    expect(decodeLiveNotification('{"ended":"deleted"}')).toEqual({ kind: 'ended', reason: 'deleted' });
  });

  it('reads completions (published by complete-9.lua)', () => {
    expect(decodeLiveNotification('{"e":"E2","final":42}')).toEqual({
      kind: 'completed',
      epoch: 'E2',
      finalOffset: 42,
    });
    expect(decodeLiveNotification('{"e":"E2","final":-1}')).toBeUndefined();
  });

  it('ignores anything else', () => {
    for (const bad of [
      '',
      'null',
      '[]',
      '{"e":1,"o":2,"n":1,"d":[1]}',
      '{"e":"x","o":-1,"n":1,"d":[]}',
      '{"e":"x","o":1,"n":1,"t":"soon","d":[]}',
      '{"ended":5}',
      'garbage',
    ]) {
      expect(decodeLiveNotification(bad)).toBeUndefined();
    }
  });
});
