import { describe, expect, it } from 'vitest';
import { MAX_DATA_DEPTH, unsafeDataReason } from '@holdfast/protocol';

describe('unsafeDataReason', () => {
  it.each([
    [null],
    [1],
    ['text'],
    [true],
    [[]],
    [{}],
    [{ a: [1, { b: 'c' }] }],
    [{ constructor: 'a string is fine' }],
  ] as Array<[unknown]>)('accepts plain JSON %j', (data) => {
    expect(unsafeDataReason(data)).toBeUndefined();
  });

  it('refuses __proto__ and constructor.prototype keys at any depth', () => {
    expect(unsafeDataReason(JSON.parse('{"__proto__":{"x":1}}'))).toContain('__proto__');
    expect(unsafeDataReason(JSON.parse('{"a":[{"__proto__":1}]}'))).toContain('__proto__');
    expect(unsafeDataReason(JSON.parse('{"constructor":{"prototype":{}}}'))).toContain('constructor');
  });

  it('refuses binary attachments', () => {
    expect(unsafeDataReason({ file: Buffer.from([1]) })).toContain('binary');
    expect(unsafeDataReason([new Uint8Array(2)])).toContain('binary');
    expect(unsafeDataReason(new ArrayBuffer(4))).toContain('binary');
  });

  it('refuses nesting beyond the limit without overflowing its own stack', () => {
    const nest = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    expect(unsafeDataReason(nest(MAX_DATA_DEPTH))).toBeUndefined();
    expect(unsafeDataReason(nest(MAX_DATA_DEPTH + 1))).toContain('nested');
    expect(unsafeDataReason(nest(200_000))).toContain('nested');
  });
});
