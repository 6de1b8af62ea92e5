import {
  isWorkerEnvelope,
  type BatchPayload,
  type CompletePayload,
  type LogPosition,
  type ResetPayload,
} from '@holdfast/protocol';
import type { ArrivalCursor, ClientMessage } from './arrival-cursor.js';
import { completeViolation } from './completion.js';
import { DeliveryQueue } from './delivery-queue.js';
import type { OrderedEvent, SessionEvents } from './session-events.js';

/** What the app is handed, in order: messages, resets and the completion. */
export type Delivery<T> =
  | { readonly kind: 'message'; readonly message: ClientMessage<T>; readonly endOfBatch: boolean }
  | { readonly kind: 'reset'; readonly reset: ResetPayload }
  | { readonly kind: 'complete'; readonly complete: CompletePayload };

/** What delivery needs from the session that owns it. */
export interface AppDeliveryHooks<T> {
  /** The position the app has handled (or was reset to). */
  handled(): LogPosition | undefined;
  /** Runs the app's listeners of `event` one after the other; rejects with the first failure. */
  emitInOrder<E extends OrderedEvent>(event: E, arg: Parameters<SessionEvents<T>[E]>[0]): Promise<void>;
  /** The app handled up to `position`; `save` asks for the position to be stored. */
  progressed(position: LogPosition, save: boolean): void;
  /** Messages the app had already handled arrived again: acknowledge them, nothing else. */
  handledBefore(messages: number): void;
  /** Everything up to the final offset is handled. */
  completed(complete: CompletePayload): Promise<void>;
  /** The edge broke the delivery contract (a gap, an epoch change without a reset). */
  violation(description: string): void;
  /** An app listener threw or rejected: the item was not handled. */
  listenerFailed(error: unknown, what: string): void;
}

/**
 * Hands arrivals to the app strictly one at a time and in order, checking each message against
 * the handled position (each offset once, no gaps) and fanning worker envelopes out to their
 * own events after `message`. A listener failure or a contract breach stops here and is told to
 * the session, which drops the connection; what was queued from it is cleared and comes again.
 */
export class AppDelivery<T> {
  private readonly queue = new DeliveryQueue<Delivery<T>>((item) => this.deliver(item));

  constructor(private readonly hooks: AppDeliveryHooks<T>) {}

  /** A batch, checked against what arrived on its connection; returns the contract breach, if any. */
  acceptBatch(cursor: ArrivalCursor, batch: BatchPayload): string | undefined {
    const arrival = cursor.accept<T>(batch);
    if (!arrival.ok) return arrival.violation;
    // Already handled: acknowledge them too, or a small flow window could wait on them forever.
    if (arrival.duplicates > 0) this.hooks.handledBefore(arrival.duplicates);
    const last = arrival.messages.length - 1;
    this.queue.push(
      arrival.messages.map((message, i) => ({ kind: 'message', message, endOfBatch: i === last }) as const),
    );
    return undefined;
  }

  acceptReset(cursor: ArrivalCursor, reset: ResetPayload): void {
    cursor.onReset(reset);
    this.queue.push([{ kind: 'reset', reset }]);
  }

  /**
   * Checked against what arrived, then queued: it takes effect once the app handled everything
   * before it. Returns the contract breach, if any (then nothing is queued).
   */
  acceptComplete(cursor: ArrivalCursor, complete: CompletePayload): string | undefined {
    const violation = completeViolation(complete, cursor.arrived, this.hooks.handled());
    if (violation) return violation;
    const { epoch, finalOffset } = complete;
    this.queue.push([{ kind: 'complete', complete: { epoch, finalOffset } }]);
    return undefined;
  }

  /** Drops what has not been handed to the app yet (its connection is gone). */
  clear(): void {
    this.queue.clear();
  }

  /** Resolves once the item being handed to the app (if any) is done. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async deliver(item: Delivery<T>): Promise<void> {
    if (item.kind === 'complete') return this.hooks.completed(item.complete);
    if (item.kind === 'reset') return this.deliverReset(item.reset);
    const { message } = item;
    const handled = this.hooks.handled();
    if (handled && handled.epoch === message.epoch) {
      if (message.offset <= handled.offset) return this.hooks.handledBefore(1);
      if (message.offset !== handled.offset + 1) {
        return this.hooks.violation(`offset ${message.offset} arrived after ${handled.offset}`);
      }
    } else if (handled) {
      return this.hooks.violation(`a message of epoch ${message.epoch} arrived without a reset`);
    }
    try {
      await this.hooks.emitInOrder('message', message);
      await this.emitEnvelope(message);
    } catch (error) {
      return this.hooks.listenerFailed(error, `a 'message' listener threw at offset ${message.offset}`);
    }
    this.hooks.progressed({ epoch: message.epoch, offset: message.offset }, item.endOfBatch);
  }

  private async deliverReset(reset: ResetPayload): Promise<void> {
    try {
      await this.hooks.emitInOrder('reset', reset);
    } catch (error) {
      return this.hooks.listenerFailed(error, `a 'reset' listener threw`);
    }
    this.hooks.progressed({ epoch: reset.newEpoch, offset: reset.resumeFrom - 1 }, true);
  }

  /** A worker envelope also goes to its own listeners (after `message`). */
  private async emitEnvelope({ epoch, offset, data }: ClientMessage<T>): Promise<void> {
    if (!isWorkerEnvelope(data)) return;
    if (data.$holdfast === 'reply') {
      const { messageId, attempt } = data;
      await this.hooks.emitInOrder('reply', { messageId, attempt, data: data.data, epoch, offset });
    } else if (data.$holdfast === 'attempt_aborted') {
      const { messageId, attempt } = data;
      await this.hooks.emitInOrder('attempt_aborted', { messageId, attempt, epoch, offset });
    } else {
      const { messageId, code, message, attempts } = data;
      await this.hooks.emitInOrder('inbound_error', { messageId, code, message, attempts, epoch, offset });
    }
  }
}
