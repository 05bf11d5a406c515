import { type Kafka } from 'kafkajs';

/** Readiness probe: the cluster answers a metadata request within `timeoutMs`. */
export async function checkKafka(kafka: Kafka, timeoutMs = 3_000): Promise<void> {
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Kafka did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
