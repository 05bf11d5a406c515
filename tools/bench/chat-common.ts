/**
 * What the chat benchmarks share: the message they send, how they send it, pacing and percentiles,
 * and the raw kafkajs pipe they compare the fleet against.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { call, type ChatConversation, type ChatFleet } from '../../test/chat/harness';

/** The chat benchmarks' message text: 120 characters. */
export const benchText = (i: number) => `benchmark message ${i} `.padEnd(120, 'x');

/** Sends message `i` to `conversation` through the api (a fresh idempotency key); its id. */
export async function postMessage(
  fleet: ChatFleet,
  conversation: ChatConversation,
  i: number,
): Promise<string> {
  const sent = await call<{ id: string }>(
    `${fleet.apiUrl}/v1/conversations/${conversation.id}/messages`,
    conversation.token,
    {
      method: 'POST',
      headers: { 'idempotency-key': randomUUID() },
      body: { text: benchText(i) },
    },
  );
  if (sent.status !== 202) throw new Error(`send: ${sent.status} ${JSON.stringify(sent.body)}`);
  return sent.body.id;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Closed loop: `send(i)` for each i of [first, first + count), `concurrency` sends in flight. */
export async function closedLoop(
  first: number,
  count: number,
  concurrency: number,
  send: (i: number) => Promise<void>,
): Promise<void> {
  let next = first;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < first + count; i = next++) await send(i);
    }),
  );
}

/** Open loop: one send every 1/rate s regardless of answers. */
export async function paced(
  rate: number,
  seconds: number,
  send: (i: number) => Promise<void>,
): Promise<void> {
  const total = Math.max(1, Math.round(rate * seconds));
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(send(i));
  }
  await Promise.all(inFlight);
}

export interface RawPipeOptions {
  brokers: string[];
  /** Distinct record keys (the fleet's conversation ids). */
  keys: number;
  /** Records per throughput round. */
  records: number;
  /** Measured rounds, after one warm-up round (a cold client does a third of a warm one's rate). */
  rounds: number;
  /** Also measure latency: one record per send at `rate`/s for `seconds`. */
  latency?: { rate: number; seconds: number };
}

/**
 * The same records as the chat path's (JSON with message id, conversation id and text, keyed by
 * conversation) through kafkajs alone: produced in batches of 100 by one idempotent producer
 * (acks=all) and consumed by one consumer, until the consumer has them all; one warm-up round, then
 * `rounds` rounds, the median reported (a few thousand records took a few hundred ms, and the
 * figure swung between 7k and 18k/s from run to run). Then, if asked, latency at a given rate: send → consumed.
 */
export async function rawKafkaPipe(
  options: RawPipeOptions,
): Promise<{ throughput: number; rounds: number[]; latencies: number[] }> {
  const kafka = new Kafka({
    clientId: 'bench-chat-raw',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  });
  const topic = `bench-chat-raw-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const keys = Array.from({ length: options.keys }, () => randomUUID());
  const consumedAt = new Map<string, number>();
  let consumed = 0;
  let onConsumed: (() => void) | undefined;
  await consumer.run({
    eachMessage: async ({ message }) => {
      consumedAt.set(message.headers!['x-id']!.toString(), Date.now());
      consumed++;
      onConsumed?.();
    },
  });
  await sleep(3_000); // group join
  const record = (i: number, id: string) => ({
    key: keys[i % keys.length]!,
    value: JSON.stringify({ messageId: id, conversationId: keys[i % keys.length], text: benchText(i) }),
    headers: { 'x-id': id },
  });
  try {
    // Throughput: batches of 100 back to back, until the consumer has every record; median round.
    const rounds: number[] = [];
    for (let round = -1; round < options.rounds; round++) {
      const target = consumed + options.records;
      const started = performance.now();
      for (let i = 0; i < options.records; i += 100) {
        const messages = [];
        for (let j = i; j < Math.min(i + 100, options.records); j++) messages.push(record(j, randomUUID()));
        await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages });
      }
      await new Promise<void>((resolve) => {
        onConsumed = () => consumed >= target && resolve();
        onConsumed();
      });
      if (round >= 0) rounds.push(options.records / ((performance.now() - started) / 1000));
    }
    if (!options.latency) return { throughput: percentile(rounds, 50), rounds, latencies: [] };
    // Latency at the given rate: one record per send.
    const sentAt = new Map<string, number>();
    await paced(options.latency.rate, options.latency.seconds, async (i) => {
      const id = randomUUID();
      sentAt.set(id, Date.now());
      await producer.send({ topic, acks: -1, messages: [record(i, id)] });
    });
    while (![...sentAt.keys()].every((id) => consumedAt.has(id))) await sleep(20);
    return {
      throughput: percentile(rounds, 50),
      rounds,
      latencies: [...sentAt].map(([id, at]) => consumedAt.get(id)! - at),
    };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}
