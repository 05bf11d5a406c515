import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@fleet/kafka/testing';
import { call, startChatFleet, type ChatFleet } from './harness';

const CONVERSATIONS = 50;
const PER_CONVERSATION = 20;

interface Created {
  id: string;
}
interface Sent {
  id: string;
  status: string;
}
interface MessageView {
  id: string;
  status: string;
  deliveries: { channel: string; status: string }[];
}

/** One phone number per conversation, so the fake channel's calls tell conversations apart. */
const phoneOf = (c: number) => `+1555${String(c).padStart(7, '0')}`;

describe('chat path end to end: api → outbox → Kafka → 2 routers → fake WhatsApp → webhooks → api', () => {
  let fleet: ChatFleet;
  before(async () => {
    fleet = await startChatFleet({ routers: 2, readReceipts: false });
  });
  after(async () => {
    await fleet?.stop();
  });

  test('1,000 messages in 50 conversations: each delivered once, in order per conversation, DELIVERED in the api', async () => {
    const started = performance.now();
    const conversations = await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, c) => {
        const token = await fleet.token(`user-${c}`);
        const created = await call<Created>(`${fleet.apiUrl}/v1/conversations`, token, {
          method: 'POST',
          body: { participants: [], channel: 'whatsapp', recipients: { whatsapp: phoneOf(c) } },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        return { c, id: created.body.id, token };
      }),
    );
    // Each conversation's messages one after another (that order is the one to keep); the
    // conversations in parallel.
    const sent = new Map<string, { c: number; n: number; conversationId: string; token: string }>();
    await Promise.all(
      conversations.map(async ({ c, id, token }) => {
        for (let n = 0; n < PER_CONVERSATION; n++) {
          const response = await call<Sent>(`${fleet.apiUrl}/v1/conversations/${id}/messages`, token, {
            method: 'POST',
            headers: { 'idempotency-key': `c${c}-m${n}` },
            body: { text: `conversation ${c} message ${n}` },
          });
          assert.equal(response.status, 202, JSON.stringify(response.body));
          assert.equal(response.body.status, 'PENDING');
          sent.set(response.body.id, { c, n, conversationId: id, token });
        }
      }),
    );
    assert.equal(sent.size, CONVERSATIONS * PER_CONVERSATION);
    const accepted = performance.now();

    await waitFor(
      'every message at the fake channel',
      () => new Set(fleet.fake.callsFor('whatsapp').map((call) => call.messageId)).size >= sent.size,
      180_000,
    );
    const delivered = performance.now();
    const calls = fleet.fake.callsFor('whatsapp').filter((call) => call.status === 200);
    const perMessage = new Map<string, number>();
    for (const call of calls) perMessage.set(call.messageId!, (perMessage.get(call.messageId!) ?? 0) + 1);
    const twice = [...perMessage].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], 'no message delivered twice');
    assert.deepEqual(
      [...sent.keys()].filter((id) => !perMessage.has(id)),
      [],
      'no message lost',
    );
    // Order at the channel: for each recipient, the message numbers arrive increasing.
    const lastN = new Map<string, number>();
    const outOfOrder: string[] = [];
    for (const call of calls) {
      const { n } = sent.get(call.messageId!)!;
      if ((lastN.get(call.to!) ?? -1) > n) outOfOrder.push(`${call.to}: ${n} after ${lastN.get(call.to!)}`);
      lastN.set(call.to!, n);
    }
    assert.deepEqual(outOfOrder, [], 'per-conversation order at the channel');

    // The channel's webhooks (sent, delivered) come back through the api's outbox and consumer.
    const notDelivered = async () => {
      const pending: string[] = [];
      for (const { id: conversationId, token } of conversations) {
        const page = await call<{ items: MessageView[] }>(
          `${fleet.apiUrl}/v1/conversations/${conversationId}/messages?limit=${PER_CONVERSATION}`,
          token,
        );
        assert.equal(page.status, 200, JSON.stringify(page.body));
        for (const message of page.body.items) if (message.status !== 'DELIVERED') pending.push(message.id);
      }
      return pending;
    };
    await waitFor(
      'every message DELIVERED in the api',
      async () => (await notDelivered()).length === 0,
      180_000,
    );
    const done = performance.now();
    console.log(
      `chat e2e: ${sent.size} messages in ${CONVERSATIONS} conversations, 2 routers: accepted in ${((accepted - started) / 1000).toFixed(1)} s, ` +
        `all at the channel after ${((delivered - started) / 1000).toFixed(1)} s, all DELIVERED after ${((done - started) / 1000).toFixed(1)} s; ` +
        `${calls.length} channel calls, 0 duplicates, per-conversation order held`,
    );
  });
});
