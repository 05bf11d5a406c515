import { randomUUID } from 'node:crypto';
import { type Kafka, type KafkaMessage } from 'kafkajs';
import { stringHeaders } from './headers';
import { type RuntimeLogger } from './logger';

/** A fresh, valid, versioned topic name per test: tests never share topics or groups. */
export function uniqueTopicName(purpose: string): string {
  return `test.${purpose}.${randomUUID().slice(0, 8)}.1`;
}

export function uniqueGroupId(purpose: string): string {
  return `test-${purpose}-${randomUUID().slice(0, 8)}`;
}

export interface CollectedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** A consumed record as tests look at it: key and headers decoded as UTF-8, value as bytes. */
function collectedOf(topic: string, partition: number, message: KafkaMessage): CollectedMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value,
    headers: stringHeaders(message.headers),
  };
}

/**
 * Reads `topic` from the beginning with a throwaway group until `count` messages arrived or
 * `timeoutMs` passed (then returns what it has; the caller asserts on the count).
 */
export async function collectMessages(
  kafka: Kafka,
  topic: string,
  { count, timeoutMs = 20_000, settleMs = 0 }: { count: number; timeoutMs?: number; settleMs?: number },
): Promise<CollectedMessage[]> {
  const consumer = kafka.consumer({ groupId: `collector-${randomUUID()}` });
  const collected: CollectedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let done: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        collected.push(collectedOf(t, partition, message));
        if (collected.length >= count) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([enough, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    // Give duplicates a chance to show up when the caller wants to prove there are none.
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    return [...collected];
  } finally {
    await consumer.disconnect();
  }
}

/** Polls `probe` until it returns a truthy value or the time runs out (then throws with `what`). */
type Falsy = undefined | null | false | 0 | '';
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | Falsy> | T | Falsy,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface CapturedLog {
  level: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  fields: object;
  msg: string | undefined;
}

/** A logger that keeps what it is told, for assertions; prints too when FLEET_TEST_VERBOSE is set. */
export function captureLogger(verbose = false): RuntimeLogger & { lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const at =
    (level: CapturedLog['level']) =>
    (fields: object, msg?: string): void => {
      lines.push({ level, fields, msg });
      if (verbose) process.stderr.write(`${level} ${msg ?? ''} ${JSON.stringify(fields)}\n`);
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
  };
}

/** Everything a topic received since {@link recordTopic} started, in arrival order per partition. */
export interface TopicRecording {
  readonly messages: readonly CollectedMessage[];
  /** Waits until `predicate(messages)` holds; throws naming `what` after `timeoutMs`. */
  until(
    what: string,
    predicate: (messages: readonly CollectedMessage[]) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reads `topic` (or several) from the beginning with a throwaway group for as long as the test
 * runs, keeping every record, duplicates included: for tests that count deliveries while faults happen.
 */
export async function recordTopic(kafka: Kafka, topic: string | readonly string[]): Promise<TopicRecording> {
  const consumer = kafka.consumer({
    groupId: `recorder-${randomUUID()}`,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 2_000 },
  });
  const messages: CollectedMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: typeof topic === 'string' ? [topic] : [...topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        messages.push(collectedOf(batch.topic, batch.partition, message));
      }
    },
  });
  return {
    messages,
    async until(what, predicate, timeoutMs = 60_000) {
      await waitFor(what, () => predicate(messages), timeoutMs);
    },
    stop: () => consumer.disconnect(),
  };
}
