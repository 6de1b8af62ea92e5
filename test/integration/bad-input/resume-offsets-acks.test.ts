import { describe, expect, it } from 'vitest';
import { ErrorCode, type ResetPayload } from '@holdfast/protocol';
import { RawClient, assertContiguous, type RawClientOptions } from '../../helpers/raw-client.js';
import { tokenFor, waitFor } from '@holdfast/testing';
import { useBadInputEnvironment } from './bad-input-fixture.js';

/** A small window, so a client can be shown offsets the edge has not delivered yet. */
const WINDOW = 3;
const env = useBadInputEnvironment({ edgeEnv: { WINDOW_MESSAGES: String(WINDOW) } });

interface PositionCase {
  readonly name: string;
  readonly code: ErrorCode;
  /** Client options for an existing session `sessionId` with epoch `epoch`. */
  readonly options: (sessionId: string, epoch: string) => Promise<RawClientOptions>;
}

const positionCases: PositionCase[] = [
  {
    name: 'negative offset',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch, offset: -1 },
    }),
  },
  {
    name: 'fractional offset',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch, offset: 1.5 },
    }),
  },
  {
    name: 'huge offset (2**60, not a safe integer)',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch, offset: 2 ** 60 },
    }),
  },
  {
    name: 'offset as a string',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { position: { epoch, offset: '1' } },
    }),
  },
  {
    name: 'position without epoch',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { position: { offset: 1 } },
    }),
  },
  {
    name: 'position with an empty epoch',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch: '', offset: 1 },
    }),
  },
  {
    name: 'position that is a string',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId) => ({ sessionId, token: await tokenFor(sessionId), auth: { position: '5' } }),
  },
  {
    name: 'position that is an array',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { position: [epoch, 1] },
    }),
  },
  {
    name: 'offset null (what JSON makes of NaN and Infinity)',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId, epoch) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { position: { epoch, offset: null } },
    }),
  },
  {
    name: 'epoch of 10 KB',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      position: { epoch: 'e'.repeat(10_000), offset: 1 },
    }),
  },
  {
    name: 'epoch that is a number',
    code: ErrorCode.InvalidOffset,
    options: async (sessionId) => ({
      sessionId,
      token: await tokenFor(sessionId),
      auth: { position: { epoch: 7, offset: 1 } },
    }),
  },
];

describe('rejects a bad resume position', () => {
  it.each(positionCases)('$name → $code', async ({ options, code }) => {
    const sessionId = await env.createSession();
    const { epoch } = await env.log.append(sessionId, { n: 1 });
    await env.expectRefused(await options(sessionId, epoch), code);
  });
});

describe('positions that are well-formed but wrong get an explicit reset', () => {
  it.each([
    ['in the future (beyond the head)', 'same', 1000, 'ahead_of_head'],
    ['the largest safe integer', 'same', Number.MAX_SAFE_INTEGER, 'ahead_of_head'],
    ['of another epoch', 'other', 2, 'epoch_changed'],
  ] as const)(
    'a position %s → reset %s, then the log once, in order',
    async (_what, which, offset, reason) => {
      const sessionId = await env.createSession();
      const { epoch } = (await env.log.appendBatch(sessionId, [{ data: 1 }, { data: 2 }, { data: 3 }]))[0]!;
      const client = await RawClient.connect(env.edge.url, {
        sessionId,
        token: await tokenFor(sessionId),
        position: { epoch: which === 'same' ? epoch : 'not-the-epoch', offset },
      });
      try {
        await client.waitForOffset(3);
        expect(client.resets).toEqual<ResetPayload[]>([
          {
            reason,
            oldEpoch: which === 'same' ? epoch : 'not-the-epoch',
            newEpoch: epoch,
            firstAvailable: 1,
            resumeFrom: 1,
          },
        ]);
        assertContiguous(client.delivered, 1, 3);
        expect(client.delivered.every((d) => d.epoch === epoch)).toBe(true);
      } finally {
        client.close();
      }
      await env.expectStillServing();
    },
  );
});

describe('bad acks: refused with invalid_ack, nothing stored, the connection kept', () => {
  /** A client that has been delivered offsets 1..WINDOW of a 5-message session and acks nothing itself. */
  async function deliveredWindow(): Promise<{ client: RawClient; sessionId: string; epoch: string }> {
    const sessionId = await env.createSession();
    await env.log.appendBatch(
      sessionId,
      Array.from({ length: 5 }, (_, i) => ({ data: i + 1 })),
    );
    const { epoch } = await env.log.info(sessionId);
    const client = await RawClient.connect(env.edge.url, {
      sessionId,
      token: await tokenFor(sessionId),
      autoAck: false,
    });
    await client.waitForOffset(WINDOW);
    return { client, sessionId, epoch };
  }

  const storedAck = async (sessionId: string): Promise<number> =>
    (await env.log.info(sessionId)).acks['default'] ?? 0;

  const faults = (client: RawClient): unknown[] =>
    client.notices.filter((n) => n.event === 'fault').map((n) => n.payload.code);

  it('an ack beyond the delivered offset (though within the head) → invalid_ack', async () => {
    const { client, sessionId, epoch } = await deliveredWindow();
    try {
      client.ack(5, epoch);
      await waitFor(() => faults(client).length === 1, { what: 'the fault' });
      expect(faults(client)).toEqual([ErrorCode.InvalidAck]);
      expect(await storedAck(sessionId)).toBe(0);
      // Still open and delivering: a valid ack moves the window on.
      client.ack(WINDOW, epoch);
      await client.waitForOffset(5);
      assertContiguous(client.delivered, 1, 5);
      expect(client.disconnectReason).toBeUndefined();
      await waitFor(async () => (await storedAck(sessionId)) === WINDOW, { what: 'ack stored' });
    } finally {
      client.close();
    }
    await env.expectStillServing();
  });

  it('an ack that goes backwards → invalid_ack, the stored ack does not move back', async () => {
    const { client, sessionId, epoch } = await deliveredWindow();
    try {
      client.ack(2, epoch);
      await waitFor(async () => (await storedAck(sessionId)) === 2, { what: 'ack 2 stored' });
      client.ack(1, epoch);
      await waitFor(() => faults(client).length === 1, { what: 'the fault' });
      expect(faults(client)).toEqual([ErrorCode.InvalidAck]);
      expect(await storedAck(sessionId)).toBe(2);
      expect(client.disconnectReason).toBeUndefined();
    } finally {
      client.close();
    }
    await env.expectStillServing();
  });

  it('acks of another epoch and malformed acks → one invalid_ack each', async () => {
    const { client, sessionId, epoch } = await deliveredWindow();
    const bad: unknown[] = [
      { epoch: 'not-the-epoch', offset: 1 },
      { epoch, offset: -1 },
      { epoch, offset: 1.5 },
      { epoch, offset: '2' },
      { epoch, offset: 2 ** 60 },
      { offset: 1 },
      { epoch: 12, offset: 1 },
      null,
      [epoch, 1],
      'ack',
    ];
    try {
      for (const payload of bad) client.socket.emit('ack', payload);
      await waitFor(() => faults(client).length === bad.length, { what: `${bad.length} faults` });
      expect(faults(client)).toEqual(bad.map(() => ErrorCode.InvalidAck));
      expect(await storedAck(sessionId)).toBe(0);
      client.ack(WINDOW, epoch);
      await client.waitForOffset(5);
      expect(client.disconnectReason).toBeUndefined();
    } finally {
      client.close();
    }
    await env.expectStillServing();
  });
});
