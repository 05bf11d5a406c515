/**
 * Issue 18: nothing on a dashboard or in an alert is silently empty. The fleet runs as it ships
 * (bundled apps as child processes) on the real local servers, a real Prometheus scrapes every app
 * each second and evaluates the alert rules; after a short workload — chat messages, a chunked
 * upload and its merge, a story job and a map export on the (fake) LLM, pools filled and claimed, a
 * record forced into a DLQ, the LLM's breaker tripped, an upload-gc run pushed to a Pushgateway —
 * every panel query of every dashboard and every alert's signal must return at least one series,
 * every metric and label they name must be exported by some app, every rule must evaluate, and
 * `promtool check metrics` must accept each app's /metrics. Failures name dashboard, panel and query.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chatMessageOutgoing, inNamespace } from '@fleet/contracts';
import { createKafkaClient } from '@fleet/kafka';
import { captureLogger } from '@fleet/kafka/testing';
import { FakeLlmServer } from '@fleet/llm/testing';
import { AppProcess, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { startFakeReceiver } from '@fleet/webhooks/testing';
import { ALERTS } from '../../tools/observability/alerts';
import { allQueries, DASHBOARDS } from '../../tools/observability/dashboards';
import { familyOf, partsOf } from '../../tools/observability/promql';
import { RULE_FILE } from '../../tools/render-observability';
import {
  BROKERS,
  call,
  createConversations,
  sendMessages,
  startChatFleet,
  type ChatFleet,
} from '../chat/harness';
import { infraTool, TestPrometheus } from './prometheus';

/** What a dashboard's `$__rate_interval` becomes here: four 1 s scrapes and then some. */
const RATE_INTERVAL = '30s';

interface Checked {
  where: string;
  expr: string;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Queries that return no series, named; Prometheus errors count as failures too. */
async function emptyOf(prometheus: TestPrometheus, checks: Checked[]): Promise<string[]> {
  const failures: string[] = [];
  for (const { where, expr } of checks) {
    const query = expr.replaceAll('$__rate_interval', RATE_INTERVAL);
    try {
      if ((await prometheus.query(query)).length === 0) failures.push(`${where}: no series for ${expr}`);
    } catch (error) {
      failures.push(`${where}: ${(error as Error).message}`);
    }
  }
  return failures;
}

describe('dashboards and alert rules against a real Prometheus scraping the real fleet', () => {
  let llm: FakeLlmServer;
  let fleet: ChatFleet;
  let prometheus: TestPrometheus;
  let receiver: Awaited<ReturnType<typeof startFakeReceiver>>;
  const extra: AppProcess[] = [];
  let apps: AppProcess[] = [];

  const checks: Checked[] = [
    ...allQueries().map((q) => ({ where: `dashboard "${q.dashboard}" / panel "${q.panel}"`, expr: q.expr })),
    ...ALERTS.map((a) => ({ where: `alert ${a.alert} (signal)`, expr: a.signal })),
  ];

  before(async () => {
    llm = await FakeLlmServer.start({ models: ['fake-7b-instruct'] });
    receiver = await startFakeReceiver({ secret: 'e2e-callback-secret-0123456789' });
    fleet = await startChatFleet({
      routers: 1,
      fileMerge: 1,
      generation: 1,
      exporter: 1,
      readReceipts: true,
      llm: { endpoint: llm.url, model: 'fake-7b-instruct' },
      // The LLM breaker opens on the first unavailable call, and probes again after 2 s.
      env: {
        LLM_BREAKER_MINIMUM_CALLS: '1',
        LLM_BREAKER_RESET_MS: '2000',
        // The export's callback goes to a receiver in this process.
        EXPORT_CALLBACK_ALLOWLIST: '127.0.0.1/32',
      },
    });
    const common = fleet.env;
    const llmEnv = { LOCAL_LLM_ENDPOINT: llm.url, LOCAL_LLM_MODEL: 'fake-7b-instruct' };
    extra.push(
      await AppProcess.start({
        app: 'pool-filler',
        env: {
          ...common,
          ...llmEnv,
          POOL_QUESTS_MIN: '3',
          POOL_QUESTS_BATCH: '3',
          POOL_CHECK_ON_START: 'true',
        },
      }),
      await AppProcess.start({ app: 'redis-backfill', env: common }),
    );
    await Promise.all(extra.map((app) => app.waitForHealth('/health/ready', 60_000)));
    apps = [
      fleet.api,
      fleet.poller,
      ...fleet.routers,
      ...fleet.fileMerge,
      ...fleet.generation,
      ...fleet.exporters,
      ...extra,
    ];
    prometheus = await TestPrometheus.start(
      apps.map((app) => ({ job: app.app, port: app.port })),
      [join(WORKSPACE_ROOT, RULE_FILE)],
    );

    // ---- the workload ------------------------------------------------------------------------
    // The channel answers the first call 429 (Retry-After 1 s): the router waits and resends.
    fleet.fake.script({ channel: 'whatsapp', responses: [{ status: 429, retryAfter: 1 }] });
    const conversations = await createConversations(fleet, {
      count: 2,
      userPrefix: 'obs',
      phonePrefix: '4917',
    });
    await sendMessages(fleet, conversations, { perConversation: 3, keyPrefix: 'obs' });

    const token = await fleet.token('observer');
    const bytes = Buffer.alloc(6 * 1024 * 1024 + 17, 'observability\n');
    const created = await call<{ id: string; chunkSize: number; chunkCount: number }>(
      `${fleet.apiUrl}/v1/uploads`,
      token,
      {
        method: 'POST',
        body: {
          filename: 'obs.txt',
          size: bytes.length,
          contentType: 'text/plain',
          sha256: createHash('sha256').update(bytes).digest('hex'),
        },
      },
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const upload = created.body;
    for (let n = 0; n < upload.chunkCount; n++) {
      const response = await fetch(`${fleet.apiUrl}/v1/uploads/${upload.id}/chunks/${n}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body: bytes.subarray(n * upload.chunkSize, (n + 1) * upload.chunkSize),
      });
      assert.ok(response.ok, `chunk ${n}: ${response.status} ${await response.text()}`);
    }
    assert.equal(
      (await call(`${fleet.apiUrl}/v1/uploads/${upload.id}/complete`, token, { method: 'POST' })).status,
      202,
    );

    const map = await fetch(`${fleet.apiUrl}/v1/maps?filename=obs.md`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/markdown' },
      body: '# The North\nFrosthold is a town on the river road to Pinewatch.\n',
    });
    assert.equal(map.status, 202, await map.clone().text());
    const { jobId: mapJobId } = (await map.json()) as { jobId: string };
    const story = await call<{ jobId: string }>(`${fleet.apiUrl}/v1/stories`, token, {
      method: 'POST',
      body: { title: 'Observability', content: 'A fleet whose dashboards are never empty.' },
    });
    assert.equal(story.status, 201, JSON.stringify(story.body));

    const jobStatus = async (id: string) =>
      (await call<{ status: string }>(`${fleet.apiUrl}/v1/jobs/${id}`, token)).body.status;
    await until('the map job', async () => ((await jobStatus(mapJobId)) === 'COMPLETED' ? true : undefined));
    const exported = await call<{ exportId: string }>(`${fleet.apiUrl}/v1/exports`, token, {
      method: 'POST',
      headers: { 'idempotency-key': randomUUID() },
      body: { project_id: mapJobId, engines: ['godot'], quality: 'low', callback_url: receiver.url },
    });
    assert.equal(exported.status, 202, JSON.stringify(exported.body));

    // A record the router cannot read: dead-lettered with its reason.
    const kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'obs-e2e',
      logger: captureLogger(),
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: inNamespace(chatMessageOutgoing, fleet.namespace).name,
      messages: [{ key: 'obs', value: '{"not": "a message"' }],
    });
    await producer.disconnect();

    await until('every message READ (read receipts on)', async () => {
      for (const { id, token: owner } of conversations) {
        const page = await call<{ items: { status: string }[] }>(
          `${fleet.apiUrl}/v1/conversations/${id}/messages?limit=3`,
          owner,
        );
        if (page.body.items.some((m) => m.status !== 'READ')) return undefined;
      }
      return true;
    });
    await until('the story job', async () =>
      (await jobStatus(story.body.jobId)) === 'COMPLETED' ? true : undefined,
    );
    await until('the export', async () =>
      (await jobStatus(exported.body.exportId)) === 'COMPLETED' ? true : undefined,
    );
    await until('the merge', async () => {
      const view = await call<{ status: string }>(`${fleet.apiUrl}/v1/uploads/${upload.id}`, token);
      return view.body.status === 'COMPLETED' ? true : undefined;
    });
    await until('the DLQ record', async () =>
      ((await fleet.routers[0]!.metric('kafka_messages_dead_lettered_total')) ?? 0) > 0 ? true : undefined,
    );

    // A campaign: its POI pool is reported per campaign.
    await fleet.db.dataSource.query(
      `INSERT INTO campaigns (campaign_seed, name, created_by) VALUES ('obs-campaign', 'Observed', 'obs')`,
    );
    await until('the campaign pool in the metrics', async () =>
      ((await extra[0]!.metric('pool_items_minimum', { campaign: 'obs-campaign' })) ?? -1) >= 0
        ? true
        : undefined,
    );

    // A quest the pool-filler made (check at start, 3 minimum), claimed.
    const quest = await until('a quest in the pool', async () => {
      const claim = await call<{ item?: { id: string } }>(`${fleet.apiUrl}/v1/quests/claim`, token, {
        method: 'POST',
        body: { characterId: 'obs-hero', minLevel: 1, maxLevel: 20 },
      });
      return claim.status === 200 ? claim.body : undefined;
    });
    assert.ok(quest.item);

    // The LLM goes away: a story job trips the generation worker's breaker; then it comes back.
    llm.failAlways(503);
    const doomed = await call<{ jobId: string }>(`${fleet.apiUrl}/v1/stories`, token, {
      method: 'POST',
      body: { title: 'Outage', content: 'The GPU box is rebooting.' },
    });
    assert.equal(doomed.status, 201);
    await until('the LLM breaker to open', async () => {
      const open = await prometheus.query('max(circuit_breaker_state{job="generation"}) == 2');
      return open.length > 0 ? true : undefined;
    });
    llm.recover();

    // upload-gc: one run, its metrics pushed as the CronJob does.
    const gc = await AppProcess.start({
      app: 'upload-gc',
      env: { ...common, GC_PUSHGATEWAY_URL: prometheus.pushgatewayUrl, FLEET_RUN: 'once' },
    });
    const exit = await gc.exited;
    assert.equal(exit.code, 0, gc.tail());

    // Two more scrapes of everything, pushgateway included.
    await sleep(3_000);
  });

  after(async () => {
    await prometheus?.stop();
    await Promise.allSettled(extra.map((app) => app.stop()));
    await fleet?.stop();
    await llm?.stop();
    await receiver?.close();
  });

  test('every app is a healthy scrape target', async () => {
    const targets = await prometheus.targets();
    assert.deepEqual(
      targets.filter((t) => t.health !== 'up'),
      [],
    );
    assert.equal(targets.length, apps.length + 1);
  });

  test('every panel query of every dashboard and every alert signal returns series', async () => {
    const failures = await emptyOf(prometheus, checks);
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${checks.length} queries are empty:\n${failures.join('\n')}`,
    );
  });

  test('the check itself fails on a misspelt metric, naming where it is', async () => {
    const real = checks.find((c) => c.expr.includes('kafka_messages_processed_total'))!;
    const misspelt = {
      where: real.where,
      expr: real.expr.replace('kafka_messages_processed_total', 'kafka_messages_procesed_total'),
    };
    assert.deepEqual(await emptyOf(prometheus, [misspelt]), [
      `${real.where}: no series for ${misspelt.expr}`,
    ]);
  });

  test('every metric and label a dashboard or rule names is exported by an app', async () => {
    const exported = new Map<string, Set<string>>();
    for (const series of await prometheus.query('{__name__=~".+"}')) {
      const name = series.metric.__name__!;
      const labels = exported.get(name) ?? new Set<string>();
      for (const label of Object.keys(series.metric)) labels.add(label);
      exported.set(name, labels);
    }
    const unknown: string[] = [];
    for (const { where, expr } of checks) {
      const { metrics, labels } = partsOf(expr);
      for (const metric of metrics)
        if (!exported.has(metric)) unknown.push(`${where}: unknown metric ${metric}`);
      const known = new Set(metrics.flatMap((m) => [...(exported.get(m) ?? [])]));
      for (const label of labels)
        if (!known.has(label)) unknown.push(`${where}: label "${label}" is on none of ${metrics.join(', ')}`);
    }
    assert.deepEqual(unknown, []);
    const families = new Set(checks.flatMap((c) => partsOf(c.expr).metrics.map(familyOf)));
    console.log(
      `checked: ${DASHBOARDS.length} dashboards, ${DASHBOARDS.flatMap((d) => d.rows.flatMap((r) => r.panels)).length} panels, ` +
        `${allQueries().length} panel queries, ${ALERTS.length} alert rules; ${families.size} metric families`,
    );
  });

  test('every alert rule loads and evaluates without error', async () => {
    const rules = await prometheus.rules();
    assert.deepEqual(rules.map((r) => r.name).sort(), ALERTS.map((a) => a.alert).sort());
    assert.deepEqual(
      rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
      [],
    );
  });

  test('promtool check metrics accepts every app’s /metrics', async () => {
    const promtool = infraTool('promtool');
    const problems: string[] = [];
    for (const app of apps) {
      const text = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text();
      try {
        execFileSync(promtool, ['check', 'metrics'], {
          input: text,
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch (error) {
        const e = error as { stdout: string; stderr: string };
        problems.push(`${app.app}: ${e.stdout}${e.stderr}`.trim());
      }
    }
    assert.deepEqual(problems, []);
  });
});
