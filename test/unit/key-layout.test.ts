import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { SessionLog, partitionOf, sessionKeys } from '@holdfast/session-log';

describe('the partition key layout', () => {
  it('places a session by crc32 of its UTF-8 id mod P (the value any zlib computes)', () => {
    // zlib.crc32('123456789') is the standard CRC-32 check value.
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(partitionOf('123456789', 256)).toBe(0xcbf43926 % 256);
    expect(partitionOf('chat-42', 1)).toBe(0);
  });

  it('gives every key and the live channel of a session its partition tag, and nothing else shares it by accident', () => {
    const keys = sessionKeys('hf', 'chat-42', 256);
    const tag = `{p${String(partitionOf('chat-42', 256)).padStart(3, '0')}}`;
    expect(keys.meta).toBe(`hf:${tag}:s:chat-42:meta`);
    expect(keys.live).toBe(`hf:${tag}:live:chat-42`);
    for (const [name, key] of Object.entries(keys)) expect(key.match(/\{[^}]*\}/g), name).toEqual([tag]);
    expect(sessionKeys('hf', 'x', 20_000 - 3_616).meta).toMatch(/^hf:\{p\d{3,5}\}:s:x:meta$/);
  });

  it('spreads sessions over the partitions', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[partitionOf(`s${i}`, 16)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(800);
  });

  it.each([0, -1, 1.5, 16_385, Number.NaN])('refuses %s partitions, naming the option', (partitions) => {
    expect(() => new SessionLog({ redis: 'redis://127.0.0.1:1', partitions })).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidOptions,
        message: expect.stringContaining('partitions'),
      }),
    );
  });

  it('refuses an unknown old-layout policy', () => {
    expect(
      () => new SessionLog({ redis: 'redis://127.0.0.1:1', oldLayout: 'keep' as unknown as 'refuse' }),
    ).toThrow(/oldLayout/);
  });
});
