import { describe, expect, it } from 'vitest';
import { FlowWindow } from '../../services/edge/src/flow-window.js';
import { HoldfastError } from '@holdfast/protocol';

describe('FlowWindow', () => {
  it('bounds messages and bytes in flight and releases them on cumulative acks', () => {
    const window = new FlowWindow({ messages: 10, bytes: 1000 }, 0);
    expect(window.fits(10, 5000)).toBe(true); // an empty window takes one batch whatever its bytes
    window.recordSent(4, 400);
    expect(window.room()).toEqual({ messages: 6, bytes: 600 });
    expect(window.fits(6, 600)).toBe(true);
    expect(window.fits(7, 10)).toBe(false);
    expect(window.fits(1, 601)).toBe(false);
    window.recordSent(10, 600);
    expect(window.room()).toEqual({ messages: 0, bytes: 0 });

    expect(window.recordAck(2)).toBe(true); // partial batch: messages released, bytes kept
    expect(window.room()).toEqual({ messages: 2, bytes: 0 });
    expect(window.recordAck(4)).toBe(true);
    expect(window.room()).toEqual({ messages: 4, bytes: 400 });
    expect(window.recordAck(3)).toBe(false);
    expect(window.recordAck(10)).toBe(true);
    expect(window.messagesInFlight).toBe(0);
    expect(window.inFlightBytes).toBe(0);
  });

  it('refuses an ack beyond what was delivered', () => {
    const window = new FlowWindow({ messages: 10, bytes: 1000 }, 5);
    window.recordSent(7, 10);
    expect(() => window.recordAck(8)).toThrow(HoldfastError);
    expect(window.lastAcked).toBe(5);
  });

  it('always lets one message through, however large', () => {
    const window = new FlowWindow({ messages: 1, bytes: 1 }, 0);
    expect(window.room()).toEqual({ messages: 1, bytes: 1 });
    window.recordSent(1, 10_000);
    expect(window.fits(1, 1)).toBe(false);
    window.recordAck(1);
    expect(window.fits(1, 10_000)).toBe(true);
  });

  it('starts over after a reset', () => {
    const window = new FlowWindow({ messages: 10, bytes: 1000 }, 0);
    window.recordSent(5, 100);
    window.restart(40);
    expect(window.lastDelivered).toBe(40);
    expect(window.messagesInFlight).toBe(0);
    expect(window.room()).toEqual({ messages: 10, bytes: 1000 });
  });
});
