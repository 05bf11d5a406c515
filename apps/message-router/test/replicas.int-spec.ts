import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DeliveryChannel, type OutgoingMessage } from '@fleet/contracts';
import { waitFor } from '@fleet/kafka/testing';
import { makeMessage, RouterFixture } from './harness';

const CHANNELS: readonly DeliveryChannel[] = ['whatsapp', 'instagram'];

/** `count` messages to all channels over `conversations` conversations, in send order. */
function conversationMessages(count: number, conversations: number): OutgoingMessage[] {
  const ids = Array.from({ length: conversations }, () => makeMessage().conversationId);
  return Array.from({ length: count }, (_, n) =>
    makeMessage({ conversationId: ids[n % conversations]!, text: `m${n}` }),
  );
}

interface Tally {
  /** Deliveries (message × channel) the channel never accepted. */
  missing: string[];
  /** Accepted channel calls beyond the first per delivery. */
  duplicates: number;
  /** Conversations whose first accepted calls on a channel are out of send order. */
  orderViolations: string[];
}

function tally(f: RouterFixture, messages: readonly OutgoingMessage[]): Tally {
  const missing: string[] = [];
  let duplicates = 0;
  const firstSeq = new Map<string, number>();
  for (const message of messages) {
    for (const channel of CHANNELS) {
      const accepted = f.callsFor(message, channel).filter((c) => c.status === 200);
      if (accepted.length === 0) missing.push(`${message.messageId}/${channel}`);
      duplicates += Math.max(0, accepted.length - 1);
      if (accepted[0]) firstSeq.set(`${message.messageId}/${channel}`, accepted[0].seq);
    }
  }
  const orderViolations = new Set<string>();
  const last = new Map<string, number>();
  for (const message of messages) {
    for (const channel of CHANNELS) {
      const seq = firstSeq.get(`${message.messageId}/${channel}`);
      if (seq === undefined) continue;
      const key = `${message.conversationId}/${channel}`;
      if ((last.get(key) ?? -1) > seq) orderViolations.add(message.conversationId);
      last.set(key, seq);
    }
  }
  return { missing, duplicates, orderViolations: [...orderViolations] };
}

async function sentStatuses(f: RouterFixture): Promise<number> {
  const [row] = await f.db.dataSource.query<Array<{ n: string }>>(
    `SELECT count(*) AS n FROM outbox_events WHERE payload->>'status' = 'SENT'`,
  );
  return Number(row!.n);
}

describe('message-router replicas (real Kafka, PostgreSQL, Redis; fake channels)', () => {
  test('two replicas in one consumer group: every message reaches each channel exactly once, in order per conversation', async () => {
    const f = await RouterFixture.create();
    try {
      // Slow answers, so both replicas are busy at once.
      f.fake.script({ responses: [{ delayMs: 5 }], then: 'repeat-last' });
      const a = await f.startRouter();
      const b = await f.startRouter();
      const messages = conversationMessages(150, 30);
      await f.send(messages);
      await waitFor('300 SENT statuses', async () => (await sentStatuses(f)) >= 300, 120_000);

      assert.deepEqual(tally(f, messages), { missing: [], duplicates: 0, orderViolations: [] });
      assert.equal(await sentStatuses(f), 300, 'one SENT status per delivery');
      const sentBy = async (router: typeof a) =>
        (await router.metric('router_deliveries_total', { outcome: 'sent' })) ?? 0;
      const [byA, byB] = [await sentBy(a), await sentBy(b)];
      assert.equal(byA + byB, 300);
      assert.ok(byA > 0 && byB > 0, `both replicas delivered (a ${byA}, b ${byB})`);
    } finally {
      await f.close();
    }
  });

  test('a router SIGKILLed mid-stream and restarted loses nothing; with no webhook confirmations, duplicates only for calls in flight at the kill', async () => {
    const f = await RouterFixture.create();
    try {
      f.fake.script({ responses: [{ delayMs: 20 }], then: 'repeat-last' });
      const [partitions, keys] = [3, 4];
      const env = {
        ROUTER_SESSION_TIMEOUT_MS: '8000',
        ROUTER_PARTITIONS_CONCURRENCY: String(partitions),
        ROUTER_KEY_CONCURRENCY: String(keys),
      };
      const first = await f.startRouter(env);
      const messages = conversationMessages(200, 40);
      await f.send(messages);
      await waitFor('some deliveries before the kill', async () => (await sentStatuses(f)) >= 80, 60_000);
      assert.deepEqual(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
      const sentAtKill = await sentStatuses(f);
      assert.ok(sentAtKill < 400, `killed mid-stream (${sentAtKill} of 400 sent)`);

      const second = await f.startRouter(env);
      await waitFor(
        '400 SENT statuses after the restart',
        async () => (await sentStatuses(f)) >= 400,
        120_000,
      );
      const result = tally(f, messages);
      const resumed = (await second.metric('router_deliveries_resumed_unknown_total')) ?? 0;
      const resent =
        (await second.metric('router_deliveries_resumed_unknown_total', { outcome: 'resent' })) ?? 0;
      console.log(
        `SIGKILL at ${sentAtKill}/400 deliveries: ${result.duplicates} duplicate channel call(s), ${resumed} delivery(ies) taken over (${resent} resent)`,
      );
      assert.deepEqual(result.missing, [], 'nothing lost');
      assert.equal(await sentStatuses(f), 400, 'exactly one SENT status per delivery');
      // Only a call the dead router had in flight can reach a channel twice: at most `keys` per
      // concurrently handled partition on the main consumer, one per partition on the retry
      // consumer. No api runs here, so
      // no webhook confirms anything: every takeover resends, on WhatsApp after the grace too (the
      // confirmed case is confirmation.int-spec.ts and the fleet e2e test).
      assert.equal(resent, resumed, 'with no webhooks, every takeover resends');
      assert.ok(result.duplicates <= resent, `duplicates ${result.duplicates} ≤ resent ${resent}`);
      const inFlight = partitions * keys + partitions;
      assert.ok(resumed <= inFlight, `resumed ${resumed} ≤ ${inFlight}`);
      const [{ unfinished }] = await f.db.dataSource.query<Array<{ unfinished: string }>>(
        `SELECT count(*) AS unfinished FROM router_deliveries WHERE state NOT IN ('SENT', 'FAILED')`,
      );
      assert.equal(Number(unfinished), 0, 'no delivery left unfinished');
      assert.equal(f.dlq.messages.length, 0, 'nothing dead-lettered');
    } finally {
      await f.close();
    }
  });
});
