/**
 * Shows the local fleet working, three ways onto one smoke topic, each traced:
 *  1. straight through the Kafka runtime (producer → consumer);
 *  2. through the transactional outbox: a row written in a transaction, published by the running
 *     outbox-poller;
 *  3. through the Redis fallback list, as a producer does while the Kafka breaker is open, drained
 *     by the running redis-backfill;
 *  4. a chat message through the api (a token minted for the local dev key), routed by the
 *     message-router to the fake WhatsApp, whose signed status webhooks bring it to DELIVERED;
 *  5. a chunked upload through the api (chunks streamed to MinIO, sent out of order), composed by
 *     file-merge, downloaded back through its presigned URL and compared byte for byte;
 *  6. a story through the api, enhanced by the generation worker on the LLM (the local fake unless
 *     LOCAL_LLM_ENDPOINT names a real one): its job COMPLETED and the story scored by the LLM;
 *  7. the content pools: an operator's pool check through the api, the pool-filler filling the
 *     quest pool on the LLM, and a player's quest claimed from it.
 * Prints each round-trip time and its trace in Jaeger. Run by `tools/fleet up`; safe to run again.
 */
import { tracing } from './smoke-instrumentation';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import { defineTopic } from '@fleet/contracts';
import { connectDataSource } from '@fleet/db';
import { createKafkaClient, FleetConsumer, FleetProducer, provisionTopics, subscribe } from '@fleet/kafka';
import { createLogger } from '@fleet/observability';
import { enqueue } from '@fleet/outbox';
import { closeRedisClient, createRedisClient, FallbackQueue } from '@fleet/redis';
import { type PublicKeyEntry } from '@fleet/signing';
import { readLocalEnv } from '@fleet/service-kit/testing';
import { startFakeReceiver } from '@fleet/webhooks/testing';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { verifyBundle } from '../apps/exporter/src/verify/verify-bundle';

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const brokers = env('KAFKA_BROKERS', '127.0.0.1:9092').split(',');
const jaeger = env('JAEGER_QUERY_URL', 'http://127.0.0.1:16686');
const smokeTopic = defineTopic({
  name: 'fleet.smoke.ping.1',
  schema: z.object({ id: z.string(), sentAt: z.number(), path: z.string() }),
  description: 'Round-trip check written by tools/fleet up; nothing consumes it in production.',
  partitions: 1,
});
const tracer = trace.getTracer('fleet-smoke');
const TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const logger = createLogger({ serviceName: 'fleet-smoke', level: 'warn' });
  const registry = new Registry();
  const kafka = createKafkaClient({ brokers, clientId: 'fleet-smoke', logger });
  await provisionTopics(kafka, [smokeTopic]);
  const producer = new FleetProducer(kafka, { registry });
  await producer.connect();

  const waiting = new Map<string, (traceparent: string | undefined) => void>();
  const consumer = new FleetConsumer(kafka, {
    groupId: `fleet-smoke-${randomUUID().slice(0, 8)}`,
    producer,
    registry,
    logger,
    subscriptions: [
      subscribe(smokeTopic, async (value, ctx) => waiting.get(value.id)?.(ctx.headers.traceparent)),
    ],
  });
  await consumer.start();

  /** Runs `send` inside a root span, waits for the message to come back, prints the result. */
  const roundTrip = async (
    path: string,
    via: string,
    send: (ping: z.infer<typeof smokeTopic.schema>) => Promise<void>,
  ) => {
    const ping = { id: randomUUID(), sentAt: Date.now(), path };
    const arrived = new Promise<string | undefined>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no ${path} round trip within ${TIMEOUT_MS / 1000} s: is ${via} running? (tools/fleet status)`,
            ),
          ),
        TIMEOUT_MS,
      );
      waiting.set(ping.id, (traceparent) => {
        clearTimeout(timer);
        resolve(traceparent);
      });
    });
    await tracer.startActiveSpan(`smoke ${path}`, async (span) => {
      try {
        await send(ping);
      } finally {
        span.end();
      }
    });
    const traceId = (await arrived)?.split('-')[1];
    console.log(
      `smoke: ${path.padEnd(8)} round trip via ${via} in ${Date.now() - ping.sentAt} ms` +
        (traceId ? `; trace ${jaeger}/api/traces/${traceId}` : ''),
    );
  };

  const dataSource = await connectDataSource({
    url: env('DATABASE_URL', 'postgres://fleet:fleet@127.0.0.1:5432/fleet'),
    applicationName: 'fleet-smoke',
    poolSize: 1,
    logger,
  });
  const redis = createRedisClient({
    url: env('REDIS_URL', 'redis://127.0.0.1:6379'),
    connectionName: 'fleet-smoke',
    logger,
  });
  try {
    await roundTrip('direct', 'the Kafka runtime', async (ping) => {
      await producer.send(smokeTopic, [{ key: 'smoke', value: ping, eventId: ping.id }]);
    });
    await roundTrip('outbox', 'outbox-poller', async (ping) => {
      await dataSource.transaction((tx) =>
        enqueue(tx, smokeTopic, {
          aggregateType: 'smoke',
          aggregateKey: 'smoke',
          eventType: 'smoke.ping',
          payload: ping,
          id: ping.id,
        }),
      );
    });
    await roundTrip('fallback', 'redis-backfill', async (ping) => {
      const headers: Record<string, string> = { 'x-event-id': ping.id };
      propagation.inject(context.active(), headers);
      await new FallbackQueue(redis).push(
        smokeTopic.name,
        [{ key: 'smoke', value: JSON.stringify(ping), headers }],
        'smoke check',
      );
    });
    await chatRoundTrip();
    await uploadRoundTrip();
    await storyRoundTrip();
    await poolRoundTrip();
    await exportRoundTrip();
  } finally {
    await consumer.stop();
    await producer.disconnect();
    await dataSource.destroy();
    await closeRedisClient(redis);
    await tracing.shutdown();
  }
}

const api = `http://127.0.0.1:${env('API_PORT', '8080')}`;

/** A token for `user` (with `scope`, when given), minted with the api's local development key. */
function mintToken(user: string, scope?: string): string {
  const args = ['dist/apps/api/admin.js', 'mint-token', user, ...(scope ? ['--scope', scope] : [])];
  return execFileSync(process.execPath, args, {
    env: { ...process.env, ...readLocalEnv('api') },
  })
    .toString()
    .trim();
}

/** Path 4: POST a message to the api and wait until the fake channel has it and it is DELIVERED. */
async function chatRoundTrip(): Promise<void> {
  const fake = `http://127.0.0.1:${env('FAKE_CHANNELS_PORT', '9480')}`;
  const token = mintToken('smoke-user');
  const request = async <T>(path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${api}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`api ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const started = Date.now();
  const conversation = await request<{ id: string }>('/v1/conversations', {
    participants: [],
    channel: 'whatsapp',
    recipients: { whatsapp: '+15550000001' },
  });
  const message = await request<{ id: string }>(
    `/v1/conversations/${conversation.id}/messages`,
    { text: 'hello from tools/fleet up' },
    { 'idempotency-key': randomUUID() },
  );
  let atChannel = 0;
  for (;;) {
    if (Date.now() - started > TIMEOUT_MS) {
      throw new Error(
        `chat message not DELIVERED within ${TIMEOUT_MS / 1000} s: are api, message-router and outbox-poller running?`,
      );
    }
    if (!atChannel) {
      const { calls } = (await (await fetch(`${fake}/_fake/calls?channel=whatsapp`)).json()) as {
        calls: { messageId?: string }[];
      };
      if (calls.some((c) => c.messageId === message.id)) {
        atChannel = Date.now() - started;
      }
    }
    const view = await request<{ status: string }>(
      `/v1/conversations/${conversation.id}/messages/${message.id}`,
    );
    if (atChannel && (view.status === 'DELIVERED' || view.status === 'READ')) {
      console.log(
        `smoke: chat     api → outbox → message-router → fake WhatsApp in ${atChannel} ms, ${view.status} in the api after ${Date.now() - started} ms`,
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Path 5: a 9 MiB text file in the api's chunks (last chunk first), completed, merged by file-merge
 * inside MinIO, then downloaded through the presigned URL: the bytes must hash the same.
 */
async function uploadRoundTrip(): Promise<void> {
  const token = mintToken('smoke-user');
  const auth = { authorization: `Bearer ${token}` };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`api ${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const line = 'tools/fleet up: a chunked upload, composed by file-merge inside MinIO\n';
  const bytes = Buffer.from(line.repeat(Math.ceil((9 * 1024 * 1024 + 4321) / line.length))).subarray(
    0,
    9 * 1024 * 1024 + 4321,
  );
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const started = Date.now();
  const upload = await call<{ id: string; chunkSize: number; chunkCount: number }>('POST', '/v1/uploads', {
    filename: 'smoke.txt',
    size: bytes.length,
    contentType: 'text/plain',
    sha256,
  });
  for (let n = upload.chunkCount - 1; n >= 0; n--) {
    const chunk = bytes.subarray(n * upload.chunkSize, (n + 1) * upload.chunkSize);
    const response = await fetch(`${api}/v1/uploads/${upload.id}/chunks/${n}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: chunk,
    });
    if (!response.ok) throw new Error(`chunk ${n}: ${response.status} ${await response.text()}`);
  }
  await call('POST', `/v1/uploads/${upload.id}/complete`);
  for (;;) {
    if (Date.now() - started > TIMEOUT_MS) {
      throw new Error(
        `upload not COMPLETED within ${TIMEOUT_MS / 1000} s: are api, outbox-poller and file-merge running?`,
      );
    }
    const view = await call<{ status: string; failureReason?: string | null }>(
      'GET',
      `/v1/uploads/${upload.id}`,
    );
    if (view.status === 'FAILED') throw new Error(`upload FAILED: ${view.failureReason}`);
    if (view.status === 'COMPLETED') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const merged = Date.now() - started;
  const { url } = await call<{ url: string }>('GET', `/v1/uploads/${upload.id}/download`);
  const download = await fetch(url);
  const back = Buffer.from(await download.arrayBuffer());
  const same = createHash('sha256').update(back).digest('hex') === sha256;
  if (!download.ok || !same)
    throw new Error(`download: ${download.status}, bytes ${same ? 'match' : 'DIFFER'}`);
  console.log(
    `smoke: upload   ${upload.chunkCount} chunks → api → MinIO → outbox → file-merge (compose) COMPLETED in ${merged} ms; ` +
      `presigned download matches (sha256 ${sha256.slice(0, 12)}…)`,
  );
}

/** Path 6: a story's enhancement job, from the api through the generation worker and the LLM. */
async function storyRoundTrip(): Promise<void> {
  const auth = { authorization: `Bearer ${mintToken('smoke-user')}` };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`api ${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const started = Date.now();
  const created = await call<{ story: { id: string; hypeScore: number }; jobId: string }>(
    'POST',
    '/v1/stories',
    {
      title: 'Smoke test: a revolutionary breakthrough!',
      content: 'tools/fleet up checks that stories are enhanced by the generation worker.',
    },
  );
  // The first call of a local model loads it: allow more than the other paths.
  const deadline = started + 4 * TIMEOUT_MS;
  for (;;) {
    if (Date.now() > deadline) {
      throw new Error(
        `story job not COMPLETED within ${(4 * TIMEOUT_MS) / 1000} s: are api, outbox-poller, generation and the LLM up?`,
      );
    }
    const job = await call<{ status: string; error?: string | null; attempts?: number }>(
      'GET',
      `/v1/jobs/${created.jobId}`,
    );
    if (job.status === 'FAILED') throw new Error(`story job FAILED: ${job.error}`);
    if (job.status === 'COMPLETED') break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const story = await call<{ hypeScore: number; ethicsScore: number; scoresSource?: string }>(
    'GET',
    `/v1/stories/${created.story.id}`,
  );
  console.log(
    `smoke: story    api → outbox → generation → LLM (${env('LOCAL_LLM_ENDPOINT', 'fake')}) COMPLETED in ${Date.now() - started} ms; ` +
      `scores local hype ${created.story.hypeScore} → LLM hype ${story.hypeScore}, ethics ${story.ethicsScore}`,
  );
}

/**
 * Path 7: `check_all_pools` through the api (an operator's token), the pool-filler's refill of the
 * quest pool on the LLM (items are committed as they are made), then a player's quest claim.
 */
async function poolRoundTrip(): Promise<void> {
  const request = async <T>(token: string, method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`api ${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const operator = mintToken('smoke-operator', 'fleet:operator');
  const player = mintToken('smoke-player');
  type Levels = {
    pools: Array<{
      pool: string;
      available: number;
      minSize: number;
      pendingJobs: number;
      runningJobs: number;
    }>;
  };
  const quests = async () =>
    (await request<Levels>(player, 'GET', '/v1/pools')).pools.find((p) => p.pool === 'quests')!;
  const started = Date.now();
  const before = await quests();
  const check = await request<{ jobId: string }>(operator, 'POST', '/v1/pool-jobs', {
    jobType: 'check_all_pools',
    priority: 1,
  });
  const deadline = started + 4 * TIMEOUT_MS;
  let level = before;
  while (level.available === 0) {
    if (Date.now() > deadline) {
      throw new Error(
        `quest pool still empty after ${(4 * TIMEOUT_MS) / 1000} s (check job ${check.jobId}): are pool-filler, outbox-poller and the LLM up?`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    level = await quests();
  }
  const filledMs = Date.now() - started;
  const claimed = await request<{ item: { id: string; title: string; level: number }; available: number }>(
    player,
    'POST',
    '/v1/quests/claim',
    { characterId: 'smoke-hero', minLevel: 1, maxLevel: 20 },
  );
  console.log(
    `smoke: pools    api → check_all_pools → pool-filler → LLM: quest pool ${before.available} → ${level.available} ` +
      `in ${filledMs} ms (min ${level.minSize}${level.available < level.minSize ? ', filling on' : ''}), claimed "${claimed.item.title}" (level ${claimed.item.level}), ` +
      `${claimed.available} left`,
  );
}

/**
 * Path 8: a map from a document (generation on the LLM), its export for all three engines through
 * the exporter, the Godot bundle downloaded through its presigned URL and verified against the
 * published keys, and the signed export.completed callback received by a local receiver.
 */
async function exportRoundTrip(): Promise<void> {
  const auth = { authorization: `Bearer ${mintToken('smoke-designer')}` };
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: {
        ...auth,
        ...headers,
        ...(body === undefined
          ? {}
          : { 'content-type': typeof body === 'string' ? 'text/markdown' : 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    if (response.status === 429 && method === 'GET') {
      // A long wait polls past the per-user budget: wait as told, then ask again.
      await response.arrayBuffer();
      const seconds = Number(response.headers.get('retry-after') ?? 1);
      await new Promise((resolve) => setTimeout(resolve, Math.min(10, Math.max(1, seconds)) * 1000));
      return call<T>(method, path, body, headers);
    }
    if (!response.ok) throw new Error(`api ${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const waitFor = async (path: string, what: string) => {
    const deadline = Date.now() + 4 * TIMEOUT_MS;
    for (;;) {
      const job = await call<{ status: string; error?: string | null } & Record<string, unknown>>(
        'GET',
        path,
      );
      if (job.status === 'FAILED' || job.status === 'CANCELLED')
        throw new Error(`${what} ${job.status}: ${job.error}`);
      if (job.status === 'COMPLETED') return job;
      if (Date.now() > deadline)
        throw new Error(
          `${what} not COMPLETED within ${(4 * TIMEOUT_MS) / 1000} s: are outbox-poller, generation and exporter running?`,
        );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const secret = readLocalEnv('exporter').WORKER_CALLBACK_SECRET!;
  const receiver = await startFakeReceiver({ secret });
  try {
    const started = Date.now();
    const map = await call<{ jobId: string }>(
      'POST',
      '/v1/maps?filename=smoke-world.md',
      '# The North\nFrosthold is a town on the river road to Pinewatch.\n\n# The Coast\nSaltmere is a village; a ferry runs to the Drowned Bell.\n',
    );
    await waitFor(`/v1/jobs/${map.jobId}`, 'map job');
    const created = await call<{ exportId: string }>(
      'POST',
      '/v1/exports',
      {
        project_id: map.jobId,
        engines: ['godot', 'unity', 'ue5'],
        quality: 'low',
        callback_url: receiver.url,
      },
      { 'idempotency-key': randomUUID() },
    );
    const done = (await waitFor(`/v1/exports/${created.exportId}`, 'export')) as unknown as {
      bundles: { engine: string; size: number; url: string }[];
    };
    const godot = done.bundles.find((b) => b.engine === 'godot')!;
    const zip = join(mkdtempSync(join(tmpdir(), 'fleet-smoke-')), 'godot.zip');
    const download = await fetch(godot.url);
    if (!download.ok) throw new Error(`bundle download: ${download.status}`);
    writeFileSync(zip, Buffer.from(await download.arrayBuffer()));
    const keys = (await (await fetch(`${api}/v1/exports/keys`)).json()) as { keys: PublicKeyEntry[] };
    const verdict = await verifyBundle(zip, keys.keys);
    if (!verdict.ok)
      throw new Error(`bundle does not verify: ${verdict.mismatch.path} ${verdict.mismatch.reason}`);
    await receiver.waitForEvents(1, TIMEOUT_MS);
    const sizes = done.bundles.map((b) => `${b.engine} ${(b.size / 1024).toFixed(0)} KiB`).join(', ');
    console.log(
      `smoke: export   api → map → exporter: ${sizes} in ${Date.now() - started} ms; godot bundle verified ` +
        `(${verdict.files} files, key ${verdict.keyId}); signed callback export.completed received`,
    );
  } finally {
    await receiver.close();
  }
}

main().catch((error: unknown) => {
  console.error(`smoke: failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
