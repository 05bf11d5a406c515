/**
 * Benchmark (not a test): the chat path end to end against the raw Kafka pipe.
 *
 *   npm run bench:chat      (servers from tools/infra; MESSAGES=3000 WARMUP=1000 CONVERSATIONS=50 ROUTERS=2
 *                            CONCURRENCY=64 LATENCY_SECONDS=20 CHANNEL_DELAY_MS=0)
 *
 * CHANNEL_DELAY_MS makes the fake WhatsApp answer each send after that long (the real Cloud API
 * takes ~100–300 ms); the goals are measured at 0. LATENCY_RATE (diagnosis only) runs phase 2 at
 * that rate instead of 50 % of phase 1's. `npm run bench:chat-ceiling` measures what this machine
 * allows the api step alone.
 *
 * In one run, with the same message size and keys (conversation ids):
 *  0. warm-up: WARMUP messages through the fleet, not measured (its apps were just started);
 *  1. fleet throughput: MESSAGES sent through the api (`POST /v1/conversations/:id/messages`,
 *     CONCURRENCY requests in flight) until every one has reached the fake WhatsApp server:
 *     api → Postgres + outbox → outbox-poller → Kafka → ROUTERS message-routers → channel;
 *  2. fleet latency at 50 % of that rate, open loop, POST sent → call received by the channel, once
 *     the statuses of phase 1 have all come back (DELIVERED) and the outbox is empty; the CPU each
 *     process used and the latency of each hop;
 *  3. raw kafkajs throughput (`rawKafkaPipe`): the same records produced in batches of 100 by one
 *     idempotent producer (acks=all) and consumed by one consumer; RAW_RECORDS (20,000) per round,
 *     the median of 3 rounds after one warm-up round;
 *  4. raw latency at the same offered rate as (2): one record per send, send → consumed.
 * Prints every figure and the ratios (goals: throughput ratio ≥ 0.15, stretch 0.30; p99 ratio ≤ 5).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createConversations,
  startChatFleet,
  type ChatConversation as Conversation,
  type ChatFleet,
} from '../../test/chat/harness';
import { cpuByGroup, cpuSince } from './cpu';
import { closedLoop, paced, percentile, postMessage, rawKafkaPipe } from './chat-common';

const MESSAGES = Number(process.env.MESSAGES ?? 3_000);
const WARMUP = Number(process.env.WARMUP ?? 1_000);
const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 50);
const ROUTERS = Number(process.env.ROUTERS ?? 2);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const LATENCY_SECONDS = Number(process.env.LATENCY_SECONDS ?? 20);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const RAW_RECORDS = Number(process.env.RAW_RECORDS ?? 20_000);
const RAW_ROUNDS = 3;
const CHANNEL_DELAY_MS = Number(process.env.CHANNEL_DELAY_MS ?? 0);
/** Diagnosis only: the latency phase's rate instead of 50 % of the measured throughput. */
const LATENCY_RATE = process.env.LATENCY_RATE ? Number(process.env.LATENCY_RATE) : undefined;

/** Where the fleet's CPU goes, per phase. */
const CPU_GROUPS = {
  api: (c: string) => c.includes('api/main.js'),
  'outbox-poller': (c: string) => c.includes('outbox-poller/main.js'),
  'message-routers': (c: string) => c.includes('message-router/main.js'),
  postgres: (c: string) => c.startsWith('postgres'),
  kafka: (c: string) => c.includes('kafka.Kafka'),
  redis: (c: string) => c.includes('redis-server'),
};

/** Messages the channel has accepted, by our message id → when it received them (ms epoch). */
function receivedAt(fleet: ChatFleet): Map<string, number> {
  const seen = new Map<string, number>();
  for (const c of fleet.fake.callsFor('whatsapp')) {
    if (c.status === 200 && c.messageId && !seen.has(c.messageId))
      seen.set(c.messageId, Date.parse(c.receivedAt));
  }
  return seen;
}

/** `count` messages (numbered from `first`) through the fleet until all are at the channel. */
async function fleetThroughput(
  fleet: ChatFleet,
  conversations: Conversation[],
  first: number,
  count: number,
): Promise<number> {
  const ids = new Set<string>();
  const started = performance.now();
  const cpu = cpuByGroup(CPU_GROUPS);
  const benchCpu = process.cpuUsage();
  await closedLoop(first, count, CONCURRENCY, async (i) => {
    ids.add(await postMessage(fleet, conversations[i % conversations.length]!, i));
  });
  for (;;) {
    const seen = receivedAt(fleet);
    if ([...ids].every((id) => seen.has(id))) break;
    await sleep(50);
  }
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(benchCpu);
  console.log(
    `  ${(count / seconds).toFixed(0)} messages/s; cpu during ${seconds.toFixed(1)} s: ${cpuSince(CPU_GROUPS, cpu)}, ` +
      `this process (clients + fake channels) ${((own.user + own.system) / 1e6).toFixed(1)} s`,
  );
  return count / seconds;
}

/**
 * Waits until the throughput phase's work is finished: its messages are at the channel, but their
 * SENT and DELIVERED statuses are still going through the outbox, Kafka and both status consumers.
 * The latency phase is measured at 50 % load, not 50 % plus that backlog.
 */
async function settle(fleet: ChatFleet): Promise<void> {
  const started = performance.now();
  for (;;) {
    const [row]: Array<{ behind: string; pending: string }> = await fleet.db.dataSource.query(
      `SELECT (SELECT count(*) FROM messages WHERE status <> 'DELIVERED') AS behind,
              (SELECT count(*) FROM outbox_events WHERE published_at IS NULL AND parked_at IS NULL) AS pending`,
    );
    if (Number(row!.behind) === 0 && Number(row!.pending) === 0) break;
    await sleep(100);
  }
  console.log(
    `statuses all DELIVERED, outbox drained ${((performance.now() - started) / 1000).toFixed(1)} s later`,
  );
}

async function fleetLatency(
  fleet: ChatFleet,
  conversations: Conversation[],
  rate: number,
): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const cpu = cpuByGroup(CPU_GROUPS);
  const benchCpu = process.cpuUsage();
  await paced(rate, LATENCY_SECONDS, async (i) => {
    const at = Date.now();
    const id = await postMessage(fleet, conversations[i % conversations.length]!, WARMUP + MESSAGES + i);
    sentAt.set(id, at);
  });
  for (;;) {
    const seen = receivedAt(fleet);
    if ([...sentAt.keys()].every((id) => seen.has(id))) {
      const own = process.cpuUsage(benchCpu);
      console.log(
        `  cpu: ${cpuSince(CPU_GROUPS, cpu)}, this process ${((own.user + own.system) / 1e6).toFixed(1)} s`,
      );
      await printHops(fleet, sentAt, seen);
      return [...sentAt].map(([id, at]) => seen.get(id)! - at);
    }
    await sleep(50);
  }
}

/**
 * Where the latency goes, hop by hop, from the rows' own timestamps (one machine, one clock):
 * POST sent → accepted (api: HTTP, auth, the send transaction) → claimed by the poller
 * (`published_at` is its transaction's start: NOTIFY, wake-up, claim) → claimed by a router (produce,
 * the broker, the consumer's fetch, the dedup check) → at the channel (the claim's commit, the
 * HTTP call).
 */
async function printHops(
  fleet: ChatFleet,
  sentAt: Map<string, number>,
  seen: Map<string, number>,
): Promise<void> {
  const rows: Array<{ id: string; accepted: Date; claimed: Date; routed: Date }> =
    await fleet.db.dataSource.query(
      `SELECT m.id, m.created_at AS accepted, o.published_at AS claimed, r.call_started_at AS routed
         FROM messages m
         JOIN outbox_events o ON o.id = m.id
         JOIN router_deliveries r ON r.message_id = m.id AND r.channel = 'whatsapp'
        WHERE m.id = ANY($1::uuid[])`,
      [[...sentAt.keys()]],
    );
  const hops: Record<string, number[]> = {
    'POST → accepted (api)': [],
    'accepted → poller claim': [],
    'poller claim → router claim': [],
    'router claim → channel': [],
  };
  for (const row of rows) {
    const points = [
      sentAt.get(row.id)!,
      row.accepted.getTime(),
      row.claimed.getTime(),
      row.routed.getTime(),
      seen.get(row.id)!,
    ];
    Object.values(hops).forEach((list, i) => list.push(points[i + 1]! - points[i]!));
  }
  for (const [hop, values] of Object.entries(hops)) {
    console.log(`  ${hop.padEnd(30)} p50 ${percentile(values, 50)} ms, p99 ${percentile(values, 99)} ms`);
  }
}

async function main(): Promise<void> {
  console.log(`starting the chat fleet: api, outbox-poller, ${ROUTERS} message-routers, fake channels …`);
  const fleet = await startChatFleet({ routers: ROUTERS, readReceipts: false });
  try {
    if (CHANNEL_DELAY_MS > 0) {
      console.log(`the fake WhatsApp answers each send after ${CHANNEL_DELAY_MS} ms`);
      fleet.fake.script({
        channel: 'whatsapp',
        responses: [{ status: 200, delayMs: CHANNEL_DELAY_MS }],
        then: 'repeat-last',
      });
    }
    const conversations = await createConversations(fleet, {
      count: CONVERSATIONS,
      userPrefix: 'bench-user',
      phonePrefix: '1666',
    });
    // Warm-up, not measured: the apps were just started (JIT, connection pools, group joins).
    console.log(`fleet warm-up: ${WARMUP} messages …`);
    await fleetThroughput(fleet, conversations, 0, WARMUP);
    await settle(fleet);
    console.log(`fleet throughput: ${MESSAGES} messages, ${CONCURRENCY} requests in flight …`);
    const fleetRate = await fleetThroughput(fleet, conversations, WARMUP, MESSAGES);
    await settle(fleet);
    const rate = LATENCY_RATE ?? fleetRate / 2;
    console.log(`fleet latency: ${rate.toFixed(0)} messages/s (50 %) for ${LATENCY_SECONDS} s …`);
    const fleetLatencies = await fleetLatency(fleet, conversations, rate);
    console.log(`raw kafkajs pipe: throughput, then latency at ${rate.toFixed(0)} records/s …`);
    const raw = await rawKafkaPipe({
      brokers: BROKERS,
      keys: CONVERSATIONS,
      records: RAW_RECORDS,
      rounds: RAW_ROUNDS,
      latency: { rate, seconds: LATENCY_SECONDS },
    });
    console.log(`raw rounds: ${raw.rounds.map((r) => r.toFixed(0)).join(', ')} records/s`);
    const row = (label: string, value: string) => console.log(`${label.padEnd(34)}${value}`);
    console.log('');
    row('fleet delivered messages/s', fleetRate.toFixed(0));
    row('raw kafkajs produce+consume /s', raw.throughput.toFixed(0));
    row(
      'throughput ratio fleet/raw',
      `${(fleetRate / raw.throughput).toFixed(3)}   (goal ≥ 0.15, stretch 0.30)`,
    );
    row(
      `fleet latency at ${rate.toFixed(0)}/s p50 / p99`,
      `${percentile(fleetLatencies, 50)} ms / ${percentile(fleetLatencies, 99)} ms`,
    );
    row(
      `raw latency at ${rate.toFixed(0)}/s p50 / p99`,
      `${percentile(raw.latencies, 50)} ms / ${percentile(raw.latencies, 99)} ms`,
    );
    row(
      'p99 ratio fleet/raw',
      `${(percentile(fleetLatencies, 99) / Math.max(1, percentile(raw.latencies, 99))).toFixed(1)}   (goal ≤ 5)`,
    );
  } finally {
    await fleet.stop();
  }
  process.exit(0);
}

void main();
