import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { groupInNamespace } from '@fleet/contracts';
import { waitFor } from '@fleet/kafka/testing';
import {
  acceptedPerMessage,
  createConversations,
  orderViolations,
  sendMessages,
  startChatFleet,
  waitAllDelivered,
  type ChatFleet,
} from './harness';

const CONVERSATIONS = 50;
const PER_CONVERSATION = 20;

/** Sum of a counter's samples on an app's /metrics whose labels include `labels`. */
async function counter(port: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('chat path end to end: api → outbox → Kafka → 2 routers → fake WhatsApp → webhooks → api', () => {
  let fleet: ChatFleet;
  let sentCount = 0;
  before(async () => {
    fleet = await startChatFleet({ routers: 2, readReceipts: false });
  });
  after(async () => {
    await fleet?.stop();
  });

  test('1,000 messages in 50 conversations: each delivered once, in order per conversation, DELIVERED in the api', async () => {
    const started = performance.now();
    const conversations = await createConversations(fleet, {
      count: CONVERSATIONS,
      userPrefix: 'user',
      phonePrefix: '1555',
    });
    const sent = await sendMessages(fleet, conversations, {
      perConversation: PER_CONVERSATION,
      keyPrefix: '',
    });
    assert.equal(sent.size, CONVERSATIONS * PER_CONVERSATION);
    sentCount = sent.size;
    const accepted = performance.now();

    await waitFor(
      'every message at the fake channel',
      () => new Set(fleet.fake.callsFor('whatsapp').map((call) => call.messageId)).size >= sent.size,
      180_000,
    );
    const delivered = performance.now();
    const calls = fleet.fake.callsFor('whatsapp').filter((call) => call.status === 200);
    const perMessage = acceptedPerMessage(calls);
    const twice = [...perMessage].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], 'no message delivered twice');
    assert.deepEqual(
      [...sent.keys()].filter((id) => !perMessage.has(id)),
      [],
      'no message lost',
    );
    // Order at the channel: for each recipient, the message numbers arrive increasing.
    assert.deepEqual(orderViolations(calls, sent), [], 'per-conversation order at the channel');

    // The channel's webhooks (sent, delivered) come back through the api's outbox and consumer.
    await waitAllDelivered(fleet, conversations, PER_CONVERSATION);
    const done = performance.now();
    console.log(
      `chat e2e: ${sent.size} messages in ${CONVERSATIONS} conversations, 2 routers: accepted in ${((accepted - started) / 1000).toFixed(1)} s, ` +
        `all at the channel after ${((delivered - started) / 1000).toFixed(1)} s, all DELIVERED after ${((done - started) / 1000).toFixed(1)} s; ` +
        `${calls.length} channel calls, 0 duplicates, per-conversation order held`,
    );
  });

  test("replaying the router's topic from the beginning (a router in a new consumer group) sends nothing again", async () => {
    assert.ok(sentCount > 0, 'runs after the delivery test');
    const callsBefore = fleet.fake.callsFor('whatsapp').length;
    // The runtime subscribes from the beginning: a new group reads every record on the topic again.
    const group = `replay-${Date.now()}`;
    const replay = await fleet.startRouter({ ROUTER_CONSUMER_GROUP: group });
    const labels = `group="${groupInNamespace(group, fleet.namespace)}"`;
    await waitFor(
      `the replaying router handled all ${sentCount} records`,
      async () => (await counter(replay.port, 'kafka_messages_processed_total', labels)) >= sentCount,
      120_000,
    );
    const processed = await counter(replay.port, 'kafka_messages_processed_total', labels);
    const calls = fleet.fake.callsFor('whatsapp');
    assert.equal(calls.length, callsBefore, 'no channel call during the replay');
    assert.deepEqual(
      [...acceptedPerMessage(calls)].filter(([, count]) => count > 1),
      [],
      'no message delivered twice',
    );
    console.log(
      `chat replay: a router in a new group handled ${processed} records from the beginning; ` +
        `${calls.length - callsBefore} channel calls`,
    );
  });
});
