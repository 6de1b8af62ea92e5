import { newEpoch } from './epoch-id.js';
import type { SessionKeys } from './keys.js';
import { toHoldfastError } from './redis-errors.js';
import { checkReply } from './script-errors.js';
import type { ScriptRunner } from './script-runner.js';
import { TickBatcher, type BatchedRequest } from './tick-batcher.js';

/** Most acks in one ack-n.lua call. */
export const ACK_BATCH = 128;
/** Ack flushes in flight at once; acks arriving meanwhile go together in the next ones. */
const ACK_FLUSHES_IN_FLIGHT = 4;

export interface AckRequest {
  readonly consumerId: string;
  readonly epoch: string;
  readonly offset: number;
  /** The acking connection's lease generation, or '' for a caller without a lease. */
  readonly leaseGeneration: number | string;
}

interface PendingAck extends BatchedRequest {
  readonly keys: SessionKeys;
  readonly ack: AckRequest;
  readonly resolve: (ackedOffset: number) => void;
}

/**
 * Acks batched across sessions (lua/ack-n.lua, tick-batcher.ts): the acks an edge's connections
 * send in one event-loop turn go in one call, each stored as one ack alone would be (hf_ack).
 * Acks are monotonic, so their order among calls does not matter.
 */
export class AckBatcher {
  private readonly batcher: TickBatcher<PendingAck>;

  constructor(private readonly runner: ScriptRunner) {
    this.batcher = new TickBatcher({
      runner,
      maxPerCall: ACK_BATCH,
      flushesInFlight: ACK_FLUSHES_IN_FLIGHT,
      call: (acks) => this.call(acks),
    });
  }

  /** Store one ack (already validated by the caller); resolves with the stored offset. */
  ack(sessionId: string, keys: SessionKeys, ack: AckRequest): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.batcher.submit({ sessionId, keys, ack, resolve, reject });
    });
  }

  private async call(acks: readonly PendingAck[]): Promise<void> {
    let reply: unknown[];
    try {
      const identity = await this.runner.currentIdentity();
      const keys: string[] = [];
      const args: Array<string | number> = [
        identity.runId,
        identity.durable ? '1' : '0',
        this.runner.options.tombstoneTtlMs,
      ];
      for (const { keys: k, ack } of acks) {
        keys.push(k.meta, k.log, k.tomb);
        args.push(newEpoch(), k.live, ack.consumerId, ack.epoch, ack.offset, ack.leaseGeneration);
      }
      reply = await this.runner.run((acks[0] as PendingAck).sessionId, 'ackMany', keys, args);
    } catch (error) {
      for (const ack of acks) ack.reject(toHoldfastError(error));
      return;
    }
    acks.forEach((ack, i) => {
      try {
        const part = reply[i + 1];
        if (part instanceof Error) throw part;
        ack.resolve(Number(checkReply(part, ack.sessionId)[1]));
      } catch (error) {
        ack.reject(toHoldfastError(error));
      }
    });
  }
}
