/**
 * The ops console's routes through the bundled api (a child process): queues against the real
 * PostgreSQL and Kafka (a fresh schema and topic namespace), charts against a stand-in Prometheus
 * that records what it was asked (the real one is the fleet e2e's, test/ops), and the page itself.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { chatMessageStatus, inNamespace } from '@fleet/contracts';
import { type TestSchema } from '@fleet/db/testing';
import { createKafkaClient, provisionTopics, type KafkaClient } from '@fleet/kafka';
import { captureLogger } from '@fleet/kafka/testing';
import { freePort } from '@fleet/service-kit/testing';
import {
  BROKERS,
  call,
  createApiSchema,
  createKeys,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from '../../test/harness';

interface PromRequest {
  query: string;
  start: number;
  end: number;
  step: number;
}

/** Answers `/api/v1/query_range` with `answer(request)`, keeping every request. */
async function fakePrometheus(answer: (request: PromRequest) => { status: number; body: unknown }) {
  const requests: PromRequest[] = [];
  const read = (request: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => resolve(body));
    });
  const server: Server = createServer(async (request, response) => {
    const form = new URLSearchParams(await read(request));
    const asked = {
      query: form.get('query') ?? '',
      start: Number(form.get('start')),
      end: Number(form.get('end')),
      step: Number(form.get('step')),
    };
    requests.push(asked);
    const { status, body } =
      request.url === '/prom/api/v1/query_range' ? answer(asked) : { status: 404, body: { status: 'error' } };
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/prom`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const matrix = (series: Array<{ metric: Record<string, string>; values: [number, string][] }>) => ({
  status: 200,
  body: { status: 'success', data: { resultType: 'matrix', result: series } },
});

describe('ops console routes', () => {
  const namespace = `ops${randomBytes(4).toString('hex')}`;
  let keys: TestKeys;
  let db: TestSchema;
  let api: ApiUnderTest;
  let kafka: KafkaClient;
  let prometheus: Awaited<ReturnType<typeof fakePrometheus>>;
  let answer: (request: PromRequest) => { status: number; body: unknown } = () => matrix([]);
  let admin: string;
  let user: string;

  before(async () => {
    keys = await createKeys();
    db = await createApiSchema();
    prometheus = await fakePrometheus((request) => answer(request));
    api = await startApi(db.schema, keys, {
      KAFKA_TOPIC_NAMESPACE: namespace,
      PROMETHEUS_URL: prometheus.url,
    });
    kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'ops-console-int',
      logger: captureLogger(),
    });
    admin = await tokenFor(keys, 'operator-1', { claims: { scope: 'fleet:admin' } });
    user = await tokenFor(keys, 'someone', { claims: { scope: 'fleet:operator' } });
  });

  after(async () => {
    await api?.stop();
    await prometheus?.stop();
    await db?.drop();
  });

  test('both routes: 401 without a token, 403 without the fleet:admin scope', async () => {
    for (const path of ['/v1/admin/queues', '/v1/admin/charts', '/v1/admin/charts/processed']) {
      assert.equal((await call(api, 'GET', path)).status, 401, path);
      const forbidden = await call<{ error: { code: string } }>(api, 'GET', path, { token: user });
      assert.equal(forbidden.status, 403, path);
      assert.equal(forbidden.body.error.code, 'FORBIDDEN');
      assert.match(forbidden.headers.get('www-authenticate') ?? '', /scope="fleet:admin"/);
    }
  });

  test("queues: jobs per kind and status, and the lag of this namespace's groups on its topics only", async () => {
    await db.dataSource.query(
      `INSERT INTO jobs (id, kind, owner_id, input, status, finished_at)
       SELECT gen_random_uuid(), kind, 'u', '{}', status, CASE WHEN status = 'COMPLETED' THEN now() END
         FROM (VALUES ('map_generation', 'PENDING'), ('map_generation', 'PENDING'),
                      ('map_generation', 'COMPLETED'), ('story_enhancement', 'PENDING')) AS v(kind, status)`,
    );
    const topic = inNamespace(chatMessageStatus, namespace);
    await provisionTopics(kafka, [topic]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topic.name,
      messages: Array.from({ length: 5 }, (_, n) => ({ partition: 0, value: `{"n":${n}}` })),
    });
    await producer.disconnect();
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    const group = `${namespace}.api-status`;
    // Read up to offset 2 on partition 0; the other partitions are empty.
    await kafkaAdmin.setOffsets({
      groupId: group,
      topic: topic.name,
      partitions: [{ partition: 0, offset: '2' }],
    });
    // Another namespace's group on the same topic is not this fleet's.
    const stranger = `other${randomBytes(4).toString('hex')}.api-status`;
    await kafkaAdmin.setOffsets({
      groupId: stranger,
      topic: topic.name,
      partitions: [{ partition: 0, offset: '0' }],
    });
    await kafkaAdmin.disconnect();

    const queues = await call<{
      at: string;
      jobs: Array<{ kind: string; pending: number; completed: number; total: number }>;
      consumerLag: {
        status: string;
        groups: Array<{
          groupId: string;
          state: string;
          lag: number;
          topics: Array<{ topic: string; lag: number }>;
        }>;
      };
    }>(api, 'GET', '/v1/admin/queues', { token: admin });
    assert.equal(queues.status, 200, queues.text);
    assert.deepEqual(
      queues.body.jobs.map((k) => [k.kind, k.pending, k.completed, k.total]),
      [
        ['map_generation', 2, 1, 3],
        ['story_enhancement', 1, 0, 1],
      ],
    );
    assert.equal(queues.body.consumerLag.status, 'ok', queues.text);
    assert.deepEqual(
      queues.body.consumerLag.groups.map((g) => [
        g.groupId,
        g.state,
        g.lag,
        g.topics.map((t) => [t.topic, t.lag]),
      ]),
      [[group, 'Empty', 3, [[topic.name, 3]]]],
    );
    assert.ok(!queues.body.consumerLag.groups.some((g) => g.groupId === stranger));
  });

  test('a chart: the fixed PromQL for the namespace on a step-aligned range, series named by legend and aligned', async () => {
    answer = (request) =>
      matrix([
        {
          metric: { topic: `${namespace}.chat.message.outgoing.1` },
          values: [
            [request.start, '2'],
            [request.start + request.step, '2.5'],
          ],
        },
        { metric: { topic: `${namespace}.chat.message.status.1` }, values: [[request.end, 'NaN']] },
      ]);
    prometheus.requests.length = 0;
    const chart = await call<{
      name: string;
      range: string;
      stepSeconds: number;
      timestamps: number[];
      series: Array<{ name: string; values: Array<number | null> }>;
    }>(api, 'GET', '/v1/admin/charts/processed?range=15m', { token: admin });
    assert.equal(chart.status, 200, chart.text);
    const [asked] = prometheus.requests;
    assert.equal(
      asked!.query,
      `sum by (topic) (rate(kafka_messages_processed_total{topic=~"${namespace}\\\\..+"}[60s]))`,
    );
    assert.equal(asked!.step, 15);
    assert.equal(asked!.end - asked!.start, 900);
    assert.equal(asked!.end % 15, 0, 'the axis ends on a multiple of the step');
    assert.equal(chart.body.stepSeconds, 15);
    assert.equal(chart.body.timestamps.length, 61);
    assert.equal(chart.body.timestamps[0], asked!.start);
    assert.deepEqual(
      chart.body.series.map((s) => [s.name, s.values.slice(0, 2), s.values.at(-1)]),
      [
        [`${namespace}.chat.message.outgoing.1`, [2, 2.5], null],
        [`${namespace}.chat.message.status.1`, [null, null], null],
      ],
    );
  });

  test('a chart of two queries asks both; unknown chart 404 naming the charts; unknown range 400', async () => {
    answer = (request) =>
      matrix([{ metric: {}, values: [[request.end, request.query.includes('parked') ? '1' : '7']] }]);
    prometheus.requests.length = 0;
    const chart = await call<{ series: Array<{ name: string; values: Array<number | null> }> }>(
      api,
      'GET',
      '/v1/admin/charts/outbox-pending',
      { token: admin },
    );
    assert.equal(chart.status, 200, chart.text);
    assert.deepEqual(prometheus.requests.map((r) => [r.query, r.step]).sort(), [
      ['max(outbox_parked_events)', 60],
      ['max(outbox_pending_events)', 60],
    ]);
    assert.deepEqual(
      chart.body.series.map((s) => [s.name, s.values.at(-1)]),
      [
        ['parked', 1],
        ['pending', 7],
      ],
    );
    const list = await call<{ prometheus: boolean; namespace: string | null; ranges: string[] }>(
      api,
      'GET',
      '/v1/admin/charts',
      { token: admin },
    );
    assert.deepEqual(
      [list.body.prometheus, list.body.namespace, list.body.ranges],
      [true, namespace, ['15m', '1h', '6h']],
    );
    const unknown = await call<{ error: { message: string } }>(api, 'GET', '/v1/admin/charts/up', {
      token: admin,
    });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /the charts are processed, dead-lettered/);
    assert.equal(
      (await call(api, 'GET', '/v1/admin/charts/processed?range=7d', { token: admin })).status,
      400,
    );
    assert.equal(
      (await call(api, 'GET', '/v1/admin/charts/processed?query=up', { token: admin })).status,
      400,
    );
  });

  test('Prometheus refusing the query or not answering: 503 with the reason', async () => {
    answer = () => ({ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error' } });
    const refused = await call<{ error: { code: string; message: string; details: { reason: string } } }>(
      api,
      'GET',
      '/v1/admin/charts/retries',
      { token: admin },
    );
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.details.reason, 'PROMETHEUS_QUERY_FAILED');
    assert.match(refused.body.error.message, /bad_data: parse error/);

    await prometheus.stop();
    const down = await call<{ error: { details: { reason: string }; message: string } }>(
      api,
      'GET',
      '/v1/admin/charts/retries',
      { token: admin },
    );
    assert.equal(down.status, 503);
    assert.equal(down.body.error.details.reason, 'PROMETHEUS_UNREACHABLE');
    assert.match(down.body.error.message, new RegExp(`Prometheus at ${prometheus.url} did not answer`));
  });

  test('/ops/ serves the console: its import map allowed by hash in the CSP, only the named vendor files', async () => {
    const redirect = await fetch(`${api.baseUrl}/ops`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/ops/');
    const page = await fetch(`${api.baseUrl}/ops/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(importMap).digest('base64')}'`), csp);
    assert.match(csp, /default-src 'none'/);
    for (const url of Object.values((JSON.parse(importMap) as { imports: Record<string, string> }).imports)) {
      const asset = await fetch(new URL(url, `${api.baseUrl}/ops/`));
      assert.equal(asset.status, 200, url);
      assert.match(asset.headers.get('content-type') ?? '', /javascript/, url);
    }
    assert.equal((await fetch(`${api.baseUrl}/ops/app.js`)).status, 200);
    assert.equal((await fetch(`${api.baseUrl}/ops/vendor/preact/preact.mjs.map`)).status, 404);
    assert.equal((await fetch(`${api.baseUrl}/ops/vendor/uplot/uPlot.cjs.js`)).status, 404);
    assert.equal((await fetch(`${api.baseUrl}/ops/vendor/uplot/../../../package.json`)).status, 404);
  });

  test('OpenAPI documents the routes as admin operations', async () => {
    const doc = await call<{ paths: Record<string, { get?: { tags?: string[]; security?: unknown } }> }>(
      api,
      'GET',
      '/docs/json',
    );
    for (const path of ['/v1/admin/queues', '/v1/admin/charts', '/v1/admin/charts/{name}']) {
      assert.deepEqual(doc.body.paths[path]?.get?.tags, ['admin'], path);
    }
  });
});

describe('ops console routes without PROMETHEUS_URL', () => {
  let db: TestSchema;
  let api: ApiUnderTest;
  let keys: TestKeys;

  before(async () => {
    keys = await createKeys();
    db = await createApiSchema();
    // Empty counts as unset; `tools/infra env` exports the local Prometheus, which apps would inherit.
    api = await startApi(db.schema, keys, { PROMETHEUS_URL: '' });
  });

  after(async () => {
    await api?.stop();
    await db?.drop();
  });

  test('charts answer 503 naming PROMETHEUS_URL; the list says there is no Prometheus', async () => {
    const admin = await tokenFor(keys, 'operator-2', { claims: { scope: 'fleet:admin' } });
    const chart = await call<{ error: { code: string; message: string; details: { reason: string } } }>(
      api,
      'GET',
      '/v1/admin/charts/breakers',
      { token: admin },
    );
    assert.equal(chart.status, 503);
    assert.equal(chart.body.error.details.reason, 'PROMETHEUS_URL_UNSET');
    assert.match(chart.body.error.message, /set PROMETHEUS_URL/);
    const list = await call<{ prometheus: boolean; namespace: string | null; charts: unknown[] }>(
      api,
      'GET',
      '/v1/admin/charts',
      {
        token: admin,
      },
    );
    assert.equal(list.body.prometheus, false);
    assert.equal(list.body.namespace, null);
    assert.equal(list.body.charts.length, 7);
  });
});
