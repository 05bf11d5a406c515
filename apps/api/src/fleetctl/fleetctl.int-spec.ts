/**
 * fleetctl as it ships (the bundle tools/build.mjs makes, run as a child process) against the
 * bundled api on the real servers: a consumer group in this process dead-letters messages on a
 * fresh topic namespace, the api's indexer picks them up, and fleetctl lists, shows, redrives,
 * discards and traces them — tables for people, --json for scripts, exit codes for both.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { groupInNamespace, inNamespace, uploadMergeRequested, type MergeRequest } from '@fleet/contracts';
import { type TestSchema } from '@fleet/db/testing';
import {
  createKafkaClient,
  FleetConsumer,
  FleetProducer,
  NonRetriableError,
  provisionTopics,
  subscribe,
  type KafkaClient,
} from '@fleet/kafka';
import { captureLogger, waitFor } from '@fleet/kafka/testing';
import { WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { Registry } from 'prom-client';
import {
  BROKERS,
  createApiSchema,
  createKeys,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from '../../test/harness';

const namespace = `ctl${randomUUID().slice(0, 6)}`;
const topic = inNamespace(uploadMergeRequested, namespace);
const group = groupInNamespace('file-merge', namespace);
const FLEETCTL = join(WORKSPACE_ROOT, 'dist/test/api/fleetctl.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('fleetctl against the api', () => {
  let db: TestSchema;
  let keys: TestKeys;
  let api: ApiUnderTest;
  let admin: string;
  let kafka: KafkaClient;
  let producer: FleetProducer;
  let consumer: FleetConsumer;
  const handled: string[] = [];
  let fixed = false;
  const poison = { a: randomUUID(), b: randomUUID() };

  const fleetctl = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [FLEETCTL, ...args],
        { env: { ...process.env, FLEET_API_URL: api.baseUrl, FLEET_TOKEN: admin, ...env }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const json = async <T>(args: string[]): Promise<T> => {
    const run = await fleetctl(['--json', ...args]);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as T;
  };

  before(async () => {
    execFileSync(process.execPath, ['tools/build.mjs', 'apps/api/src/fleetctl/main.ts', FLEETCTL], {
      cwd: WORKSPACE_ROOT,
      stdio: 'ignore',
    });
    kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'fleetctl-test',
      logger: captureLogger(),
    });
    await provisionTopics(kafka, [topic]);
    db = await createApiSchema();
    keys = await createKeys();
    api = await startApi(db.schema, keys, { KAFKA_TOPIC_NAMESPACE: namespace });
    admin = await tokenFor(keys, 'ctl-admin', { claims: { scope: 'fleet:admin' } });
    producer = new FleetProducer(kafka, { registry: new Registry() });
    await producer.connect();
    consumer = new FleetConsumer(kafka, {
      groupId: group,
      producer,
      registry: new Registry(),
      logger: captureLogger(),
      retry: { maxAttempts: 2, initialBackoffMs: 100 },
      heartbeatIntervalMs: 1_000,
      subscriptions: [
        subscribe(topic, async (value, ctx) => {
          if (!fixed && (value as MergeRequest).uploadId.startsWith('00000000')) {
            throw new NonRetriableError('no such upload', 'UPLOAD_MISSING');
          }
          handled.push(ctx.eventId!);
        }),
      ],
    });
    await consumer.start();
    const requestedAt = new Date().toISOString();
    const missing = '00000000-0000-4000-8000-000000000000';
    await producer.send(topic, [
      { key: 'u-good', value: { uploadId: randomUUID(), requestedAt }, eventId: randomUUID() },
      { key: 'u-a', value: { uploadId: missing, requestedAt }, eventId: poison.a },
      { key: 'u-b', value: { uploadId: missing, requestedAt }, eventId: poison.b },
    ]);
  });

  after(async () => {
    await consumer?.stop();
    await producer?.disconnect();
    await api?.stop();
    await db?.drop();
  });

  test('dlq topics and dlq ls: aligned tables, and --json is the api answer', async () => {
    const page = await waitFor(
      'both dead letters indexed',
      async () => {
        const answer = await json<{ items: Array<{ id: string; key: string }>; total: number }>([
          'dlq',
          'ls',
          '--topic',
          topic.name,
          '--status',
          'DEAD',
        ]);
        return answer.total === 2 ? answer : undefined;
      },
      30_000,
    );
    assert.deepEqual(page.items.map((d) => d.key).sort(), ['u-a', 'u-b']);

    const topics = await fleetctl(['dlq', 'topics']);
    assert.equal(topics.code, 0, topics.stderr);
    const [header, row] = topics.stdout
      .trimEnd()
      .split('\n')
      .filter((line) => line.startsWith('TOPIC') || line.startsWith(topic.name));
    assert.match(header!, /^TOPIC +DEAD +REDRIVING +REDRIVEN +DISCARDED +PARKED +GROUPS$/);
    assert.match(row!, new RegExp(`^${topic.name.replace(/\./g, '\\.')} +2 +0 +0 +0 +0 +${group}$`));
    // The columns line up: every field starts where its header does.
    assert.equal(row!.indexOf(group), header!.indexOf('GROUPS'));

    const listed = await fleetctl([
      'dlq',
      'ls',
      '--topic',
      topic.name,
      '--reason',
      'NON_RETRIABLE',
      '--from',
      '-1h',
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID +FAILED +TOPIC +GROUP +REASON/);
    assert.match(listed.stdout, /UPLOAD_MISSING/);
    assert.match(listed.stdout, /\n2 of 2\n$/);
  });

  test('dlq show: the failure, the payload and the headers', async () => {
    const [dead] = (
      await json<{ items: Array<{ id: string }> }>(['dlq', 'ls', '--topic', topic.name, '--key', 'u-a'])
    ).items;
    const shown = await fleetctl(['dlq', 'show', dead!.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^id: +[0-9a-f-]{36}$/m);
    assert.match(shown.stdout, /^error: +UPLOAD_MISSING: no such upload$/m);
    assert.match(shown.stdout, /"uploadId": "00000000-0000-4000-8000-000000000000"/);
    assert.match(shown.stdout, /^x-dlq-reason +NON_RETRIABLE$/m);
  });

  test('dlq redrive --filter --yes after its dry run: progress to COMPLETED, the group handles it; again: nothing to redrive', async () => {
    const dry = await json<{ dryRun: boolean; matched: number; byGroup: Record<string, number> }>([
      'dlq',
      'redrive',
      '--filter',
      `topic=${topic.name}`,
      '--filter',
      'key=u-a',
      '--dry-run',
    ]);
    assert.deepEqual([dry.dryRun, dry.matched, dry.byGroup], [true, 1, { [group]: 1 }]);

    fixed = true;
    const redrive = await fleetctl([
      'dlq',
      'redrive',
      '--filter',
      `topic=${topic.name}`,
      '--filter',
      'key=u-a',
      '--yes',
    ]);
    assert.equal(redrive.code, 0, redrive.stderr);
    assert.match(redrive.stdout, /^dry run: 1 dead letter would be redriven\n/);
    assert.match(redrive.stdout, /redrive [0-9a-f-]{36} COMPLETED: 1 redriven, 0 skipped, 0 failed of 1\n$/);
    await waitFor('the group handled the redriven copy', () => handled.includes(poison.a), 30_000);

    const again = await fleetctl([
      'dlq',
      'redrive',
      '--filter',
      `topic=${topic.name}`,
      '--filter',
      'key=u-a',
      '--yes',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to redrive/);
  });

  test('without --yes and no terminal: exit 2 after the dry run, nothing redriven', async () => {
    const run = await fleetctl(['dlq', 'redrive', '--filter', `topic=${topic.name}`, '--filter', 'key=u-b']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /pass --yes/);
    const still = await json<{ items: Array<{ status: string }> }>([
      'dlq',
      'ls',
      '--topic',
      topic.name,
      '--key',
      'u-b',
    ]);
    assert.deepEqual(
      still.items.map((d) => d.status),
      ['DEAD'],
    );
  });

  test('dlq discard with a reason, event trace, audit ls', async () => {
    const [dead] = (
      await json<{ items: Array<{ id: string }> }>(['dlq', 'ls', '--topic', topic.name, '--key', 'u-b'])
    ).items;
    const discarded = await fleetctl(['dlq', 'discard', dead!.id, '--reason', 'test data']);
    assert.equal(discarded.code, 0, discarded.stderr);
    assert.equal(discarded.stdout, '1 discarded\n');

    const trace = await fleetctl(['event', 'trace', poison.a]);
    assert.equal(trace.code, 0, trace.stderr);
    const steps = trace.stdout
      .split('\n')
      .filter((line) => /^(\d{4}-|-)/.test(line))
      .map((line) => line.split(/ {2,}/)[1]);
    const order = ['kafka.written', 'dead-lettered', 'redriven'].map((kind) => steps.indexOf(kind));
    assert.ok(
      order.every((i) => i >= 0),
      `steps: ${steps.join(', ')}`,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      `in order: ${steps.join(', ')}`,
    );
    assert.match(trace.stdout, new RegExp(`^${group} +handled`, 'm'));

    const audit = await fleetctl(['audit', 'ls', '--action', 'dlq.']);
    assert.equal(audit.code, 0, audit.stderr);
    const actions = audit.stdout
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((line) => line.split(/ {2,}/)[2]);
    assert.ok(actions.includes('dlq.discard'), actions.join(', '));
    assert.ok(actions.includes('dlq.redrive'), actions.join(', '));
    assert.ok(actions.includes('dlq.redrive (dry run)'), actions.join(', '));
  });

  test('breaker ls lists the api replica; api errors exit 1 with their code; usage exits 2', async () => {
    const breakers = await fleetctl(['breaker', 'ls']);
    assert.equal(breakers.code, 0, breakers.stderr);
    assert.match(breakers.stdout, /^BREAKER +APP +REPLICA +STATE/);
    assert.match(breakers.stdout, /^kafka-producer +api +\S+ +closed/m);

    const unknown = await fleetctl(['dlq', 'show', randomUUID()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^fleetctl: NOT_FOUND \(HTTP 404\): /);

    const forbidden = await fleetctl(['dlq', 'topics'], {
      FLEET_TOKEN: await tokenFor(keys, 'someone', { claims: { scope: 'fleet:operator' } }),
    });
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /^fleetctl: FORBIDDEN \(HTTP 403\): .*fleet:admin/);

    const down = await fleetctl(['audit', 'ls'], { FLEET_API_URL: 'http://127.0.0.1:1' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /UNREACHABLE: cannot reach the api at http:\/\/127\.0\.0\.1:1/);

    assert.equal((await fleetctl(['dlq', 'ls'])).code, 2, '--topic is required');
  });
});
