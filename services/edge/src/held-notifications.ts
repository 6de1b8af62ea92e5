import type { LiveEntries } from '@holdfast/session-log';

/**
 * Live notifications a cursor could not forward when they came (a read was in flight, or they
 * did not continue exactly where the connection was), kept so a delete cannot overtake them.
 *
 * Normally they are not needed: the read that was in flight, or the next one, brings the same
 * entries from the stream. But a delete removes the stream, and its `ended` notice can arrive
 * while that read is still out; the notifications carry the data, so the messages the edge had
 * been told about still reach the client before `session_ended` (see docs/protocol.md,
 * "Deletion"). Only what the flow window has room for is kept: together with what is in
 * flight it never exceeds the window, so a stalled client costs nothing here.
 */
export class HeldNotifications {
  private held: LiveEntries[] = [];
  private messages = 0;
  private bytes = 0;

  /** Keep `notification` if `room` (the window's free space) has space for it besides the rest. */
  hold(notification: LiveEntries, room: { messages: number; bytes: number }): void {
    if (this.messages + notification.count > room.messages || this.bytes + notification.bytes > room.bytes) {
      return;
    }
    this.held.push(notification);
    this.messages += notification.count;
    this.bytes += notification.bytes;
  }

  /** Drop what ends before `nextOffset`: it has been sent. */
  forget(nextOffset: number): void {
    while (this.held.length > 0) {
      const first = this.held[0] as LiveEntries;
      if (first.from + first.count > nextOffset) return;
      this.held.shift();
      this.messages -= first.count;
      this.bytes -= first.bytes;
    }
  }

  clear(): void {
    this.held = [];
    this.messages = 0;
    this.bytes = 0;
  }

  /**
   * The held entries from `nextOffset` on, as contiguous slices in order; stops at the first
   * gap (what lies past it cannot be delivered without what is missing).
   */
  *from(nextOffset: number): Generator<{ from: number; data: readonly unknown[]; bytes: number }> {
    let next = nextOffset;
    for (const n of this.held) {
      const last = n.from + n.count - 1;
      if (last < next) continue;
      if (n.from > next) return;
      const data = n.data().slice(next - n.from);
      yield { from: next, data, bytes: n.bytes };
      next = last + 1;
    }
  }
}
