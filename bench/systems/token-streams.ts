import { Random } from '@holdfast/testing';
import { nowMicros, sleep } from '../lib/stats.js';

/**
 * The shape of an LLM-like stream per session: replies of tokens at a steady rate, then a pause
 * (the user reading, the next prompt), then the next reply.
 */
export interface TokenStreamShape {
  /** Tokens per second while a reply streams. @default 30 */
  readonly msgPerSec?: number;
  /** Each message's size is drawn from [minBytes, maxBytes]. @default 20..200 */
  readonly minBytes?: number;
  readonly maxBytes?: number;
  /** A reply lasts a time drawn from this range (ms). @default 2,000..6,000 */
  readonly replyMs?: readonly [number, number];
  /** The pause after a reply (ms). @default 500..3,000 */
  readonly pauseMs?: readonly [number, number];
  /** Seed of the schedule, so every system gets the same one. @default 1 */
  readonly seed?: number;
}

/** What the token-stream schedule needs from the producer driver. */
export interface TokenStreamHost {
  running(): boolean;
  /**
   * Send one message of `bytes` bytes for `session`, stamped with its intended time; resolves
   * when the system acknowledged it (durable sinks) or at once (emit).
   */
  send(session: number, intendedMicros: number, bytes: number): Promise<void>;
  /** One session's queue of due tokens grew past the bound: the system is past saturation. */
  saturate(): void;
}

/** A session that has this many tokens due but unsent (10 s of tokens) is past saturation. */
const BACKLOG_LIMIT = 300;

interface StreamState {
  /** Intended times (µs) of tokens that are due but wait for the previous send. */
  readonly due: number[];
  sending: boolean;
  /** When the current reply ends (µs). */
  replyEnd: number;
}

/**
 * Drive `sessions` independent token streams open loop: each token has an intended time from
 * the schedule and is sent at once when its session has nothing in flight; otherwise it waits
 * behind the previous one (one awaited append at a time per session, as an agent streams its
 * reply), so a slow system shows as latency from the intended time, never as a slower schedule.
 * A timing wheel of 1 ms slots holds each session's next token, so the cost per tick is the
 * tokens due, not the sessions.
 */
export async function runTokenStreams(
  host: TokenStreamHost,
  sessions: number,
  shape: TokenStreamShape = {},
): Promise<void> {
  const random = new Random(shape.seed ?? 1);
  const interval = 1_000_000 / (shape.msgPerSec ?? 30);
  const [minBytes, maxBytes] = [shape.minBytes ?? 20, shape.maxBytes ?? 200];
  const [replyMin, replyMax] = shape.replyMs ?? [2_000, 6_000];
  const [pauseMin, pauseMax] = shape.pauseMs ?? [500, 3_000];
  const between = (lo: number, hi: number): number => lo + random.next() * (hi - lo);

  const start = nowMicros();
  const wheel = new Map<number, number[]>();
  let slot = Math.floor(start / 1000);
  const schedule = (session: number, at: number): void => {
    // A token due within the slot being handled goes in the next one (under 1 ms late): that
    // slot's list was already taken off the wheel.
    const due = Math.max(Math.floor(at / 1000), slot + 1);
    const list = wheel.get(due);
    if (list) list.push(session, at);
    else wheel.set(due, [session, at]);
  };
  const states: StreamState[] = [];
  // Each stream starts at a random point of its cycle, as if it had been running for a while:
  // mid-reply in proportion to the time replies take, else some way into a pause. (All starting
  // together would measure a synchronised burst, not the steady state.)
  const replyShare = (replyMin + replyMax) / (replyMin + replyMax + pauseMin + pauseMax);
  for (let s = 0; s < sessions; s++) {
    const midReply = random.next() < replyShare;
    const first = start + (midReply ? between(0, interval) : between(0, pauseMax) * 1000);
    const replyLeft = (midReply ? between(0, replyMax) : between(replyMin, replyMax)) * 1000;
    states.push({ due: [], sending: false, replyEnd: first + replyLeft });
    schedule(s, first);
  }

  const sendNext = (session: number): void => {
    const state = states[session] as StreamState;
    const intended = state.due.shift();
    if (intended === undefined) {
      state.sending = false;
      return;
    }
    state.sending = true;
    const bytes = Math.round(between(minBytes, maxBytes));
    // Whatever the outcome (the host counts failures), the next token of the session may go.
    void host.send(session, intended, bytes).finally(() => sendNext(session));
  };

  while (host.running()) {
    const nowSlot = Math.floor(nowMicros() / 1000);
    for (; slot <= nowSlot && host.running(); slot++) {
      const list = wheel.get(slot);
      if (!list) continue;
      wheel.delete(slot);
      for (let i = 0; i < list.length; i += 2) {
        const session = list[i] as number;
        const at = list[i + 1] as number;
        const state = states[session] as StreamState;
        state.due.push(at);
        if (state.due.length > BACKLOG_LIMIT) {
          host.saturate();
          return;
        }
        if (!state.sending) sendNext(session);
        // The next token of this reply, or the first of the next reply after a pause.
        let next = at + interval * between(0.5, 1.5);
        if (next > state.replyEnd) {
          next = state.replyEnd + between(pauseMin, pauseMax) * 1000;
          state.replyEnd = next + between(replyMin, replyMax) * 1000;
        }
        schedule(session, next);
      }
    }
    // A timer, not a busy loop: an idle producer must not burn the CPU being measured.
    await sleep(1);
  }
}
