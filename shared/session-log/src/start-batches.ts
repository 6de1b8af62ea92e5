import { ErrorCode, HoldfastError, assertOffset, validateIntegerOption } from '@holdfast/protocol';
import { newEpoch } from './epoch-id.js';
import type { SessionKeys } from './keys.js';
import { decodeInfoReply, decodeReadReply } from './outbound-replies.js';
import { toHoldfastError } from './redis-errors.js';
import { checkReply } from './script-errors.js';
import type { ScriptRunner } from './script-runner.js';
import { TickBatcher, type BatchedRequest } from './tick-batcher.js';
import type { ReadResult, SessionInfo } from './types.js';

/** A read to make together with a session's info (OutboundLog.infoAndRead). */
export interface FirstRead {
  readonly from: number;
  readonly limit: number;
  readonly maxBytes: number;
}

/** A session's info and, when one was asked, a read made atomically with it. */
export interface InfoAndRead {
  readonly info: SessionInfo;
  readonly read: ReadResult | undefined;
}

/** Most sessions in one start-n.lua call: a call's reply stays small, and quick to run. */
export const START_BATCH = 64;

/**
 * Flushes in flight at once, each of at most START_BATCH sessions. Requests that arrive
 * meanwhile wait and go together in the next ones (a group commit): a storm of handshakes then
 * costs a few calls per round trip, and their first reads cannot crowd the edge's one Redis
 * connection, which the claims of later handshakes travel on too (the caller bounds each
 * first read: with 16 KiB, at most 4 MiB of first reads are in flight).
 */
export const START_FLUSHES_IN_FLIGHT = 4;

interface PendingStart extends BatchedRequest {
  readonly keys: SessionKeys;
  readonly read: FirstRead | undefined;
  readonly resolve: (answer: InfoAndRead) => void;
}

/**
 * The info (and first read) of starting connections, batched (lua/start-n.lua, tick-batcher.ts):
 * each session is answered exactly as info-3.lua and read-3.lua would answer it, from one
 * atomic step.
 */
export class StartBatcher {
  private readonly batcher: TickBatcher<PendingStart>;

  constructor(private readonly runner: ScriptRunner) {
    this.batcher = new TickBatcher({
      runner,
      maxPerCall: START_BATCH,
      flushesInFlight: START_FLUSHES_IN_FLIGHT,
      call: (starts) => this.call(starts),
    });
  }

  infoAndRead(sessionId: string, read?: FirstRead): Promise<InfoAndRead> {
    let keys: SessionKeys;
    try {
      keys = this.runner.keys(sessionId);
      if (read) checkFirstRead(read);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise<InfoAndRead>((resolve, reject) => {
      this.batcher.submit({ sessionId, keys, read, resolve, reject });
    });
  }

  // Infos and reads need no order among themselves: awaiting the identity first is fine.
  private async call(starts: readonly PendingStart[]): Promise<void> {
    let reply: unknown[];
    try {
      const identity = await this.runner.currentIdentity();
      const keys: string[] = [];
      const args: Array<string | number> = [identity.runId, identity.durable ? '1' : '0'];
      for (const { keys: k, read } of starts) {
        keys.push(k.meta, k.log, k.tomb);
        args.push(
          newEpoch(),
          k.live,
          read ? Math.max(read.from, 1) : 0,
          read?.limit ?? 1,
          read?.maxBytes ?? 1,
        );
      }
      reply = await this.runner.run((starts[0] as PendingStart).sessionId, 'start', keys, args);
    } catch (error) {
      for (const start of starts) start.reject(toHoldfastError(error));
      return;
    }
    starts.forEach((start, i) => settle(start, reply[i + 1]));
  }
}

/** Answer one session from its part of the reply: {info, read} (read {} when none). */
function settle(start: PendingStart, part: unknown): void {
  try {
    if (part instanceof Error) throw part;
    if (!Array.isArray(part) || part.length !== 2) {
      throw new HoldfastError(ErrorCode.RedisUnavailable, `unexpected start reply ${JSON.stringify(part)}`);
    }
    const info = decodeInfoReply(checkReply(part[0], start.sessionId), start.sessionId);
    const readReply = part[1] as unknown[];
    const read =
      start.read && readReply.length > 0
        ? decodeReadReply(checkReply(readReply, start.sessionId), Math.max(start.read.from, 1))
        : undefined;
    start.resolve({ info, read });
  } catch (error) {
    start.reject(toHoldfastError(error));
  }
}

/** The same bounds OutboundLog.read checks. */
function checkFirstRead(read: FirstRead): void {
  assertOffset(read.from, 'from');
  validateIntegerOption('limit', read.limit, { min: 1, max: 10_000 });
  if (!Number.isSafeInteger(read.maxBytes) || read.maxBytes < 1) {
    throw new HoldfastError(
      ErrorCode.InvalidOptions,
      `maxBytes must be a positive integer, got ${String(read.maxBytes)}`,
    );
  }
}
