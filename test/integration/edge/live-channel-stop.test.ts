import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveSubscriptions } from '@holdfast/session-log';
import { RedisServer, waitFor } from '@holdfast/testing';
import { LiveChannel } from '../../../services/edge/src/live-channel.js';

let redis: RedisServer;
let live: LiveSubscriptions;

beforeAll(async () => {
  redis = await RedisServer.start();
  live = new LiveSubscriptions(redis.url);
});
afterAll(async () => {
  await live.close();
  await redis.destroy();
});

async function subscribersOn(channel: string): Promise<number> {
  const reply = (await redis.client().call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}

describe("a connection's live channel", () => {
  it('leaves the channel when the connection closed while the subscription was on its way', async () => {
    const channel = 'hf:{closed-early}:live';
    const connection = new LiveChannel(live, channel, {
      onNotification: () => undefined,
      onResubscribed: () => undefined,
      isClosing: () => true,
    });
    const subscribing = connection.subscribe();
    connection.stop(); // the client left during the handshake, before Redis answered
    await subscribing;
    await waitFor(async () => live.channelCount === 0 && (await subscribersOn(channel)) === 0, {
      what: 'the subscription of a closed connection to be dropped',
    });
    expect(live.channelCount).toBe(0);
  });
});
