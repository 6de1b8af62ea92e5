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
/**
 * How long acks gather before their call. An edge's connections ack in their own turns (each
 * client every 100 ms or 50 messages by default), so a per-turn flush carried one or two acks:
 * in token streams at 250 sessions, ack calls were about a fifth of the edge's CPU (building and
 * writing a script call each). Nothing waits on the stored ack (the flow window moved when the
 * edge took it; the client keeps its own position), so a few milliseconds cost nothing.
 */
export const ACK_LINGER_MS = 5;

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
 * send within ACK_LINGER_MS go in one call, each stored as one ack alone would be (hf_ack).
 * Acks are monotonic, so their order among calls does not matter.
 */
export class AckBatcher {
  private readonly batcher: TickBatcher<PendingAck>;

  constructor(private readonly runner: ScriptRunner) {
    this.batcher = new TickBatcher({
      runner,
      maxPerCall: ACK_BATCH,
      flushesInFlight: ACK_FLUSHES_IN_FLIGHT,
      lingerMs: ACK_LINGER_MS,
      call: (acks) => this.call(acks),
    });
  }

  /** Send the acks still lingering now (the connection is closing). */
  flushLingering(): Promise<void> {
    return this.batcher.flushLingering();
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
