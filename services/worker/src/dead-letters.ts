import type { RedisLink } from '@holdfast/session-log';
import { deadLetterKey } from '@holdfast/session-log';

/**
 * Inbound messages no attempt could handle, kept for operators (inspect, replay) in one Redis
 * stream per deployment: `<keyPrefix>:dead-letters`, entry ids from Redis time, trimmed by age
 * (the maintenance job) and by length (on every add).
 *
 * The key's name comes from the session log, which owns every key under the prefix. A record is written
 * at least once: a worker that dies between recording it and marking the message done records
 * it again on the next run, so readers dedupe by (sessionId, seq).
 */
export interface DeadLetter {
  readonly sessionId: string;
  /** The message's place in the session's inbound order. */
  readonly seq: number;
  /** The client's id of the message. */
  readonly messageId: string;
  readonly consumerId: string;
  /** Attempts started. */
  readonly attempts: number;
  /** The last attempt's error message (truncated). */
  readonly error: string;
  /** What the client sent, for replay. */
  readonly data: unknown;
}

export interface StoredDeadLetter extends DeadLetter {
  /** Stream entry id; its first part is when it was recorded (ms since the epoch). */
  readonly id: string;
}

export class DeadLetterStream {
  readonly key: string;

  /**
   * @param maxLength about this many records are kept at most (trimmed with `MAXLEN ~`)
   */
  constructor(
    private readonly redis: RedisLink,
    keyPrefix: string,
    private readonly maxLength = 100_000,
  ) {
    this.key = deadLetterKey(keyPrefix);
  }

  async record(letter: DeadLetter): Promise<string> {
    const id = await this.redis.xadd(
      this.key,
      'MAXLEN',
      '~',
      this.maxLength,
      '*',
      'session',
      letter.sessionId,
      'seq',
      letter.seq,
      'message',
      letter.messageId,
      'consumer',
      letter.consumerId,
      'attempts',
      letter.attempts,
      'error',
      letter.error,
      'data',
      JSON.stringify(letter.data) ?? 'null',
    );
    return id ?? '';
  }

  /** Delete records older than `maxAgeMs`; returns how many went. */
  async trim(maxAgeMs: number, now = Date.now()): Promise<number> {
    return this.redis.xtrim(this.key, 'MINID', Math.max(0, now - maxAgeMs));
  }

  /** The oldest `count` records (for operators and tests). */
  async list(count = 100): Promise<StoredDeadLetter[]> {
    const entries = await this.redis.xrange(this.key, '-', '+', 'COUNT', count);
    return entries.map(([id, fields]) => {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] ?? '', fields[i + 1] ?? '');
      return {
        id,
        sessionId: f.get('session') ?? '',
        seq: Number(f.get('seq')),
        messageId: f.get('message') ?? '',
        consumerId: f.get('consumer') ?? '',
        attempts: Number(f.get('attempts')),
        error: f.get('error') ?? '',
        data: JSON.parse(f.get('data') ?? 'null') as unknown,
      };
    });
  }
}
