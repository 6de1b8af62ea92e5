/**
 * What travels on a session's live channel (published by the append, end and epoch-check
 * scripts). Pub/sub is only a hint that something happened: readers check offsets and refill
 * gaps from the stream, which is the truth.
 */
export type LiveNotification = LiveEntries | LiveEnded | LiveCompleted | LiveResync;

/** Entries `from` … `from + count - 1` were appended together in `epoch` (none: the epoch changed). */
export interface LiveEntries {
  readonly kind: 'entries';
  readonly epoch: string;
  readonly from: number;
  readonly count: number;
  /** Size of the notification, a close bound on the entries' data. */
  readonly bytes: number;
  /**
   * When Redis stored the entries (Redis clock, epoch ms): the start of their delivery latency.
   * Absent from epoch-change notices and from scripts of releases before it was added.
   */
  readonly storedAt?: number;
  /**
   * The entries' data, parsed on first use: a reader whose window is full only needs the
   * offsets, so a stalled client costs no parsing.
   */
  data(): readonly unknown[];
}

/** The session ended; connected clients get `session_ended`. */
export interface LiveEnded {
  readonly kind: 'ended';
  readonly reason: string;
}

/**
 * The session was completed: nothing follows `finalOffset` in `epoch`. Published after the
 * notification of every earlier entry, so a reader that forwarded those has them all.
 */
export interface LiveCompleted {
  readonly kind: 'completed';
  readonly epoch: string;
  readonly finalOffset: number;
}

/**
 * The subscription was re-established after a disconnect: notifications may have been missed,
 * so every reader must re-read from where it is.
 */
export interface LiveResync {
  readonly kind: 'resync';
}

// The scripts write the header fields first, in this order, so they can be read without
// parsing the data: {"e":"<epoch>","o":<from>,"n":<count>,"t":<stored at>,"d":[…]} ("t" optional)
const ENTRIES_HEADER = /^\{"e":"([A-Za-z0-9_-]{1,64})","o":(\d{1,16}),"n":(\d{1,7}),(?:"t":(\d{1,16}),)?"d":/;
const ENDED = /^\{"ended":"([a-z_]{1,32})"\}$/;
const COMPLETED = /^\{"e":"([A-Za-z0-9_-]{1,64})","final":(\d{1,16})\}$/;

/** Decode a channel message; undefined for anything malformed (it is ignored, never trusted). */
export function decodeLiveNotification(message: string): LiveNotification | undefined {
  const header = ENTRIES_HEADER.exec(message);
  if (header) {
    const [prefix, epoch, from, count, storedAt] = header as unknown as [
      string,
      string,
      string,
      string,
      string | undefined,
    ];
    let data: readonly unknown[] | undefined;
    return {
      kind: 'entries',
      epoch,
      from: Number(from),
      count: Number(count),
      bytes: message.length,
      ...(storedAt === undefined ? {} : { storedAt: Number(storedAt) }),
      data() {
        data ??= JSON.parse(message.slice(prefix.length, -1)) as unknown[];
        return data;
      },
    };
  }
  const reason = ENDED.exec(message)?.[1];
  if (reason) return { kind: 'ended', reason };
  const completed = COMPLETED.exec(message);
  if (completed) return { kind: 'completed', epoch: String(completed[1]), finalOffset: Number(completed[2]) };
  return undefined;
}
