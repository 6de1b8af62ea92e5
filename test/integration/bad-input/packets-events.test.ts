import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '@holdfast/protocol';
import { tokenFor, waitFor } from '@holdfast/testing';
import { WireClient } from '../../bad-input/wire-client.js';
import { useBadInputEnvironment } from './bad-input-fixture.js';

/** The edge's frame limit, stated here so the oversize cases say what they cross. */
const MAX_FRAME_BYTES = 1024 * 1024;
const env = useBadInputEnvironment({ edgeEnv: { MAX_FRAME_BYTES: String(MAX_FRAME_BYTES) } });

const open: WireClient[] = [];
afterEach(() => open.splice(0).forEach((client) => client.close()));

/** How many inbound messages the session's inbox holds. */
async function inboxLength(sessionId: string): Promise<number> {
  const redis = env.redis.client();
  try {
    return await redis.xlen(env.log.keys(sessionId).inbox);
  } finally {
    redis.disconnect();
  }
}

/** A raw client whose session handshake was accepted (hello received). */
async function joinedClient(): Promise<{ wire: WireClient; sessionId: string }> {
  const sessionId = await env.createSession();
  const wire = await WireClient.open(env.edge.url);
  open.push(wire);
  await wire.joined({ sessionId, token: await tokenFor(sessionId) });
  return { wire, sessionId };
}

/** The edge closed this connection (Socket.IO refuses the packet itself; nothing was handled). */
async function expectClosedByParser(wire: WireClient): Promise<void> {
  await wire.waitForClose();
  expect(wire.events('batch')).toEqual([]);
  expect(wire.faultCodes()).toEqual([]);
}

/** The connection is still open and served: a message appended now arrives. */
async function expectConnectionKept(wire: WireClient, sessionId: string): Promise<void> {
  const { offset } = await env.log.append(sessionId, { after: 'hostile input' });
  await waitFor(
    () =>
      wire
        .events('batch')
        .some(
          ([batch]) =>
            (batch as { from: number; data: unknown[] }).from +
              (batch as { data: unknown[] }).data.length -
              1 >=
            offset,
        ),
    { what: `offset ${offset} on the same connection` },
  );
  expect(wire.closed).toBeUndefined();
}

describe('unknown and hostile event names', () => {
  it.each([
    ['an undefined event', 'no-such-event'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['hasOwnProperty', 'hasOwnProperty'],
    ['a server event sent by the client (hello)', 'hello'],
    ['a numeric event name', 123],
    ['a 10 KB event name', 'e'.repeat(10_000)],
  ])('%s → fault unknown_event, connection kept', async (_what, name) => {
    const { wire, sessionId } = await joinedClient();
    wire.emit(name, [{ x: 1 }]);
    await wire.waitForEvent('fault');
    expect(wire.faultCodes()).toEqual([ErrorCode.UnknownEvent]);
    const message = (wire.events('fault')[0]![0] as { message: string }).message;
    expect(message.length).toBeLessThan(200); // the name is not echoed in full
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });

  it.each(['connect', 'disconnect', 'disconnecting', 'newListener', 'removeListener'])(
    'the reserved name %s is refused by the Socket.IO parser: that connection is closed',
    async (name) => {
      const { wire } = await joinedClient();
      wire.emit(name, []);
      await expectClosedByParser(wire);
      await env.expectStillServing();
    },
  );
});

describe('__proto__ and constructor keys', () => {
  it('in send data → invalid_payload; nothing is stored', async () => {
    const { wire, sessionId } = await joinedClient();
    const sends = [
      '{"id":"p1","data":{"__proto__":{"polluted":true}}}',
      '{"id":"p2","data":{"nested":[{"__proto__":{"polluted":true}}]}}',
      '{"id":"p3","data":{"constructor":{"prototype":{"polluted":true}}}}',
    ];
    const acks = sends.map((json, i) => {
      wire.send(`42${i + 1}["send",${json}]`);
      return i + 1;
    });
    const answers = await Promise.all(acks.map((id) => wire.waitForAck(id)));
    expect(answers).toEqual(
      sends.map(() => expect.objectContaining({ ok: false, code: ErrorCode.InvalidPayload })),
    );
    expect(await inboxLength(sessionId)).toBe(0);
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });

  it('as the carrier of the fields themselves: the fields are not found (no prototype lookup)', async () => {
    const { wire, sessionId } = await joinedClient();
    wire.send('421["send",{"__proto__":{"id":"x1","data":1}}]');
    wire.send('422["token",{"__proto__":{"token":"t"}}]');
    wire.send('42["ack",{"__proto__":{"epoch":"e","offset":0}}]');
    expect(await wire.waitForAck(1)).toMatchObject({ ok: false, code: ErrorCode.InvalidMessageId });
    expect(await wire.waitForAck(2)).toMatchObject({ ok: false, code: ErrorCode.TokenMissing });
    await wire.waitForEvent('fault');
    expect(wire.faultCodes()).toEqual([ErrorCode.InvalidAck]);
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });

  it('in the handshake auth: fields under __proto__ do not count → invalid_session_id', async () => {
    const sessionId = await env.createSession();
    const wire = await WireClient.open(env.edge.url);
    open.push(wire);
    wire.send(`40{"v":1,"__proto__":{"sessionId":"${sessionId}","token":"${await tokenFor(sessionId)}"}}`);
    await waitFor(() => wire.connectError(), { what: 'CONNECT_ERROR' });
    expect(wire.connectError()?.code).toBe(ErrorCode.InvalidSessionId);
    await env.expectStillServing();
  });
});

describe('binary attachments and placeholders', () => {
  it('a binary attachment in send data → invalid_payload (data must be JSON)', async () => {
    const { wire, sessionId } = await joinedClient();
    wire.send('451-1["send",{"id":"b1","data":{"_placeholder":true,"num":0}}]');
    wire.send(Buffer.from([1, 2, 3]));
    expect(await wire.waitForAck(1)).toMatchObject({ ok: false, code: ErrorCode.InvalidPayload });
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });

  it('a placeholder object in a plain (non-binary) event is just JSON: stored as sent', async () => {
    const { wire, sessionId } = await joinedClient();
    wire.send('421["send",{"id":"b2","data":{"_placeholder":true,"num":0}}]');
    expect(await wire.waitForAck(1)).toMatchObject({ ok: true, id: 'b2', duplicate: false });
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });

  it.each([
    [
      'a placeholder pointing past the attachments',
      ['451-1["send",{"id":"b3","data":{"_placeholder":true,"num":5}}]', Buffer.from([1])],
    ],
    [
      'a negative placeholder index',
      ['451-1["send",{"id":"b4","data":{"_placeholder":true,"num":-1}}]', Buffer.from([1])],
    ],
    [
      'a placeholder index that is a string',
      ['451-1["send",{"id":"b5","data":{"_placeholder":true,"num":"0"}}]', Buffer.from([1])],
    ],
    ['more attachments announced than the parser allows (11)', ['4511-["send",{"id":"b6","data":1}]']],
    ['an attachment count that is not a number', ['45x-["send",{"id":"b7","data":1}]']],
    ['a binary frame with no binary packet before it', [Buffer.from([4, 1, 2, 3])]],
    [
      'a text packet while attachments are awaited',
      ['451-["send",{"id":"b8","data":{"_placeholder":true,"num":0}}]', '42["ack",{}]'],
    ],
  ] as Array<[string, Array<string | Buffer>]>)(
    '%s → the Socket.IO parser closes that connection',
    async (_what, frames) => {
      const { wire, sessionId } = await joinedClient();
      for (const frame of frames) wire.send(frame);
      await expectClosedByParser(wire);
      expect(await inboxLength(sessionId)).toBe(0);
      await env.expectStillServing();
    },
  );
});

describe('malformed packets', () => {
  it.each([
    ['truncated JSON', '42["send",{"id":'],
    ['an event payload that is a string', '42"send"'],
    ['an event payload that is an object', '42{"send":1}'],
    ['an empty event array', '42[]'],
    ['an event name that is an object', '42[{"a":1}]'],
    ['an unknown Socket.IO packet type', '49["x"]'],
    ['an unknown Engine.IO packet type', '9hello'],
    ['a bare Engine.IO message', '4'],
    ['a second CONNECT', '40{"v":1}'],
    ['a DISCONNECT with a payload', '41{"x":1}'],
  ])('%s → that connection is closed, nothing handled', async (_what, frame) => {
    const { wire } = await joinedClient();
    wire.send(frame);
    await expectClosedByParser(wire);
    await env.expectStillServing();
  });

  it('an event with no payload at all → fault unknown_event, connection kept', async () => {
    const { wire, sessionId } = await joinedClient();
    wire.send('42');
    await wire.waitForEvent('fault');
    expect(wire.faultCodes()).toEqual([ErrorCode.UnknownEvent]);
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });

  it('a CONNECT to a namespace the edge does not serve → CONNECT_ERROR, the session connection kept', async () => {
    const { wire, sessionId } = await joinedClient();
    wire.send('40/admin,{"v":1}');
    await waitFor(() => wire.packets.some((p) => p.type === 4), { what: 'CONNECT_ERROR for /admin' });
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });
});

describe('send payloads the edge refuses with a code', () => {
  it.each([
    ['send data that is not an object', ErrorCode.InvalidPayload, '["send","just a string"]'],
    ['send as an array', ErrorCode.InvalidPayload, '["send",["b9",1]]'],
    ['send without an id', ErrorCode.InvalidMessageId, '["send",{"data":1}]'],
    [
      'send data nested 10,000 levels deep',
      ErrorCode.InvalidPayload,
      `["send",{"id":"deep","data":${'['.repeat(10_000)}${']'.repeat(10_000)}}]`,
    ],
  ])('%s → %s', async (_what, code, event) => {
    const { wire, sessionId } = await joinedClient();
    wire.send(`421${event}`);
    expect(await wire.waitForAck(1)).toMatchObject({ ok: false, code });
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });

  it('send without an acknowledgement callback → fault invalid_payload', async () => {
    const { wire, sessionId } = await joinedClient();
    wire.emit('send', [{ id: 'no-ack', data: 1 }]);
    await wire.waitForEvent('fault');
    expect(wire.faultCodes()).toEqual([ErrorCode.InvalidPayload]);
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });
});

describe('oversized messages', () => {
  it.each([
    ['just over the 256 KiB message limit', 256 * 1024 + 16],
    ['900 KB, still under the frame limit', 900 * 1024],
  ])('%s → payload_too_large, before the transport limit; connection kept', async (_what, bytes) => {
    const { wire, sessionId } = await joinedClient();
    const id = wire.emit('send', [{ id: 'big', data: 'x'.repeat(bytes) }], true)!;
    expect(await wire.waitForAck(id)).toMatchObject({ ok: false, code: ErrorCode.PayloadTooLarge });
    await expectConnectionKept(wire, sessionId);
    await env.expectStillServing();
  });

  it('a frame over MAX_FRAME_BYTES closes that connection only (WebSocket 1009)', async () => {
    const { wire } = await joinedClient();
    wire.emit('send', [{ id: 'huge', data: 'x'.repeat(MAX_FRAME_BYTES + 1024) }], true);
    expect(await wire.waitForClose()).toMatchObject({ code: 1009 });
    await env.expectStillServing();
  });
});
