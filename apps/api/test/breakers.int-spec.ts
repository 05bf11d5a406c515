/**
 * The fleet's circuit breakers through the admin API, on real processes: the api and TWO
 * outbox-poller replicas (the bundles that ship) on one fresh schema and one fresh
 * `KAFKA_TOPIC_NAMESPACE` (which also namespaces the breaker control's Redis keys, so nothing here
 * reaches another fleet on this Redis). Every process runs its `BreakerControl` because it has
 * `REDIS_URL`; the `kafka-producer` breaker exists in all three.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type TestSchema } from '@fleet/db/testing';
import { closeRedisClient, createRedisClient, type RedisClient } from '@fleet/redis';
import { captureLogger } from '@fleet/kafka/testing';
import { AppProcess, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import {
  breakerActionResultSchema,
  breakersViewSchema,
  type BreakerActionResult,
  type BreakersView,
} from '../src/ops-breakers/breakers.schemas';
import {
  BROKERS,
  call,
  createApiSchema,
  createConversation,
  createKeys,
  DATABASE_URL,
  REDIS_URL,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

const BREAKER = 'kafka-producer';
/** Short, so that "no half-open probe while forced open" is seen within the test. */
const RESET_MS = 300;

interface ErrorBody {
  error: { code: string; message: string };
}

describe('circuit breakers across the fleet (api + 2 outbox-poller replicas)', () => {
  let db: TestSchema;
  let keys: TestKeys;
  let api: ApiUnderTest;
  let pollers: AppProcess[] = [];
  let redis: RedisClient;
  let admin: string;
  let user: string;
  const namespace = `test-${randomBytes(4).toString('hex')}`;
  const replicas = () => [api.process, ...pollers];

  const post = (name: string, action: string, body?: unknown, token = admin) =>
    call<BreakerActionResult & ErrorBody>(api, 'POST', `/v1/admin/breakers/${name}/${action}`, {
      token,
      body,
    });
  const view = async (): Promise<BreakersView> => {
    const answer = await call<BreakersView>(api, 'GET', '/v1/admin/breakers', { token: admin });
    assert.equal(answer.status, 200, answer.text);
    return breakersViewSchema.parse(answer.body);
  };
  const metric = (p: AppProcess, name: string) => p.metric(name, { breaker: BREAKER });

  /** Polls every replica's /metrics until `circuit_breaker_state` is `value`: ms since `t0` per replica. */
  const timeUntilState = (value: number, t0: number, timeoutMs = 3_000) =>
    Promise.all(
      replicas().map(async (p) => {
        while (performance.now() - t0 < timeoutMs) {
          if ((await metric(p, 'circuit_breaker_state')) === value) return performance.now() - t0;
          await sleep(5);
        }
        return Infinity;
      }),
    );

  before(async () => {
    db = await createApiSchema();
    keys = await createKeys();
    const common = { KAFKA_TOPIC_NAMESPACE: namespace, KAFKA_BREAKER_RESET_MS: String(RESET_MS) };
    api = await startApi(db.schema, keys, common);
    pollers = await Promise.all(
      [1, 2].map(() =>
        AppProcess.start({
          app: 'outbox-poller',
          env: {
            DATABASE_URL,
            DATABASE_SCHEMA: db.schema,
            KAFKA_BROKERS: BROKERS,
            REDIS_URL,
            OUTBOX_POLL_INTERVAL_MS: '100',
            ...common,
          },
        }),
      ),
    );
    await Promise.all(pollers.map((p) => p.waitForHealth('/health/ready')));
    admin = await tokenFor(keys, 'ops-alice', { claims: { scope: 'fleet:admin' } });
    user = await tokenFor(keys, 'bob');
    redis = createRedisClient({
      url: REDIS_URL,
      connectionName: 'test-api-breakers',
      logger: captureLogger(),
    });
  });
  after(async () => {
    await Promise.all([api, ...pollers].map((p) => p?.stop()));
    // The replicas removed their reports on the way out; the overrides hash is the test's own.
    const left = redis ? await redis.keys(`${namespace}:fleet:breakers:*`) : [];
    if (left.length > 0) await redis.del(...left);
    if (redis) await closeRedisClient(redis);
    await db?.drop();
  });

  test('GET lists the breaker on every replica: the api and both pollers, closed, no override', async () => {
    const deadline = Date.now() + 5_000;
    let found: BreakersView['breakers'][number] | undefined;
    while (Date.now() < deadline) {
      found = (await view()).breakers.find((b) => b.name === BREAKER);
      if (found?.replicas.length === 3) break;
      await sleep(100);
    }
    assert.ok(found, 'kafka-producer is reported');
    assert.deepEqual(found.replicas.map((r) => r.app).sort(), ['api', 'outbox-poller', 'outbox-poller']);
    assert.deepEqual(
      new Set(found.replicas.map((r) => r.replica)).size,
      3,
      'each replica reports under its own id (hostname:pid)',
    );
    assert.deepEqual(found.states, { closed: 3, 'half-open': 0, open: 0 });
    assert.equal(found.override, null);
    for (const replica of found.replicas) assert.equal(typeof replica.counts.calls, 'number');
  });

  test('a token without fleet:admin gets 403, none 401; nothing is forced', async () => {
    const list = await call<ErrorBody>(api, 'GET', '/v1/admin/breakers', { token: user });
    assert.equal(list.status, 403, list.text);
    assert.equal(list.body.error.code, 'FORBIDDEN');
    assert.match(list.headers.get('www-authenticate') ?? '', /insufficient_scope.*fleet:admin/);
    const open = await post(BREAKER, 'open', { reason: 'not mine to do' }, user);
    assert.equal(open.status, 403, open.text);
    const anonymous = await call(api, 'POST', `/v1/admin/breakers/${BREAKER}/open`, {
      body: { reason: 'x' },
    });
    assert.equal(anonymous.status, 401);
    for (const p of replicas()) assert.equal(await metric(p, 'circuit_breaker_forced'), 0);
  });

  test('open and close need a reason of 1–500 characters (400 naming body.reason); a bad name is a 400', async () => {
    for (const body of [{}, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: 42 }]) {
      const answer = await post(BREAKER, 'open', body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal(answer.body.error.code, 'VALIDATION_FAILED');
      assert.match(answer.body.error.message, /body\.reason/);
    }
    const none = await call<ErrorBody>(api, 'POST', `/v1/admin/breakers/${BREAKER}/close`, { token: admin });
    assert.equal(none.status, 400, none.text);
    assert.equal(none.body.error.code, 'EMPTY_BODY');
    const extra = await post(BREAKER, 'open', { reason: 'drill', force: true });
    assert.equal(extra.status, 400, 'unknown fields are refused');
    const badName = await post('no%20spaces', 'open', { reason: 'drill' });
    assert.equal(badName.status, 400, badName.text);
    for (const p of replicas()) assert.equal(await metric(p, 'circuit_breaker_forced'), 0);
  });

  test('an unknown breaker is a 404 for open, close and reset', async () => {
    for (const action of ['open', 'close', 'reset']) {
      const answer = await post('no-such-breaker', action, { reason: 'drill' });
      assert.equal(answer.status, 404, `${action}: ${answer.text}`);
      assert.equal(answer.body.error.code, 'NOT_FOUND');
    }
  });

  test('force open: every replica reports it open within a second, and its calls fail fast', async () => {
    const successesBefore = await Promise.all(
      pollers.map((p) => p.metric('circuit_breaker_calls_total', { breaker: BREAKER, result: 'success' })),
    );
    const t0 = performance.now();
    const [answer, seenMs] = await Promise.all([
      post(BREAKER, 'open', { reason: 'broker maintenance drill' }),
      timeUntilState(2, t0),
    ]);
    const answeredMs = performance.now() - t0;
    console.log(
      `# force open: /metrics showed circuit_breaker_state=2 after ${seenMs.map((ms) => ms.toFixed(0)).join(', ')} ms ` +
        `(api, poller 1, poller 2); the api answered after ${answeredMs.toFixed(0)} ms (its wait ${answer.body.waitedMs} ms)`,
    );
    assert.equal(answer.status, 200, answer.text);
    const result = breakerActionResultSchema.parse(answer.body);
    for (const ms of seenMs) assert.ok(ms < 1_000, `a replica took ${ms} ms`);
    assert.equal(result.complete, true);
    assert.equal(result.applied.length, 3);
    assert.deepEqual(result.pending, []);
    assert.ok(result.applied.every((r) => r.state === 'open'));
    assert.deepEqual(
      { mode: result.override?.mode, reason: result.override?.reason, actor: result.override?.actor },
      { mode: 'open', reason: 'broker maintenance drill', actor: 'ops-alice' },
    );
    for (const p of replicas()) {
      assert.equal(await metric(p, 'circuit_breaker_forced'), 2, `${p.app} ${p.child.pid} forced`);
      assert.equal(await metric(p, 'circuit_breaker_state'), 2, `${p.app} ${p.child.pid} open`);
    }

    // A message accepted now waits in the outbox: no poller sends it, not even a half-open probe
    // after KAFKA_BREAKER_RESET_MS (300 ms) — it stays open.
    const conversationId = await createConversation(api, user);
    const sent = await call(api, 'POST', `/v1/conversations/${conversationId}/messages`, {
      token: user,
      body: { text: 'held by the breaker' },
      headers: { 'idempotency-key': randomUUID() },
    });
    assert.equal(sent.status, 202, sent.text);
    await sleep(5 * RESET_MS);
    const [pending] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL`,
    );
    assert.ok(pending.n > 0, 'the outbox row was not published while forced open');
    for (const [i, p] of pollers.entries()) {
      assert.equal(await metric(p, 'circuit_breaker_state'), 2, 'still open after the reset timeout');
      assert.equal(
        await p.metric('circuit_breaker_transitions_total', { breaker: BREAKER, to: 'half-open' }),
        undefined,
        'never half-open',
      );
      assert.equal(
        await p.metric('circuit_breaker_calls_total', { breaker: BREAKER, result: 'success' }),
        successesBefore[i],
        'no send went to Kafka',
      );
    }

    const listed = (await view()).breakers.find((b) => b.name === BREAKER)!;
    assert.equal(listed.override?.id, result.override?.id);
    assert.deepEqual(listed.states, { closed: 0, 'half-open': 0, open: 3 });
    assert.ok(listed.replicas.every((r) => r.override?.mode === 'open' && r.override.actor === 'ops-alice'));
  });

  test('force close: every replica closed, forced 1, and the held message is published', async () => {
    const t0 = performance.now();
    const [answer, seenMs] = await Promise.all([
      post(BREAKER, 'close', { reason: 'maintenance over' }),
      timeUntilState(0, t0),
    ]);
    console.log(
      `# force close: circuit_breaker_state=0 after ${seenMs.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.complete, true);
    assert.equal(answer.body.applied.length, 3);
    for (const ms of seenMs) assert.ok(ms < 1_000, `a replica took ${ms} ms`);
    for (const p of replicas()) assert.equal(await metric(p, 'circuit_breaker_forced'), 1);
    const deadline = Date.now() + 10_000;
    let unpublished = 1;
    while (unpublished > 0 && Date.now() < deadline) {
      const [row] = await db.dataSource.query(
        `SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL`,
      );
      unpublished = row.n;
      if (unpublished > 0) await sleep(100);
    }
    assert.equal(unpublished, 0, 'the pollers send again once it is closed');
  });

  test('reset: the override is gone everywhere, the breakers judge by themselves again', async () => {
    const answer = await post(BREAKER, 'reset', { reason: 'back to normal' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.complete, true);
    assert.equal(answer.body.override, null);
    assert.equal(answer.body.released?.mode, 'closed');
    for (const p of replicas()) {
      assert.equal(await metric(p, 'circuit_breaker_forced'), 0);
      assert.equal(await metric(p, 'circuit_breaker_state'), 0);
    }
    const listed = (await view()).breakers.find((b) => b.name === BREAKER)!;
    assert.equal(listed.override, null);
    assert.ok(listed.replicas.every((r) => r.override === null));
    // Without a body, as `fleetctl breaker reset <name>` may send it.
    const bare = await call<BreakerActionResult>(api, 'POST', `/v1/admin/breakers/${BREAKER}/reset`, {
      token: admin,
    });
    assert.equal(bare.status, 200, bare.text);
  });

  test('every action is in the audit log: actor, action, breaker, reason and the replicas that applied it', async () => {
    const rows: Array<{
      actor: string;
      action: string;
      target: string;
      reason: string | null;
      count: number;
    }> = await db.dataSource.query(
      `SELECT actor, action, target, reason, count FROM ops_audit WHERE action LIKE 'breaker.%' ORDER BY at, id`,
    );
    assert.deepEqual(rows, [
      {
        actor: 'ops-alice',
        action: 'breaker.open',
        target: BREAKER,
        reason: 'broker maintenance drill',
        count: 3,
      },
      { actor: 'ops-alice', action: 'breaker.close', target: BREAKER, reason: 'maintenance over', count: 3 },
      { actor: 'ops-alice', action: 'breaker.reset', target: BREAKER, reason: 'back to normal', count: 3 },
      { actor: 'ops-alice', action: 'breaker.reset', target: BREAKER, reason: null, count: 3 },
    ]);
  });

  test('the routes are in the OpenAPI document, the reason in their body schema', async () => {
    const doc = await call<{ paths: Record<string, Record<string, { requestBody?: unknown }>> }>(
      api,
      'GET',
      '/docs/json',
    );
    assert.equal(doc.status, 200);
    assert.ok(doc.body.paths['/v1/admin/breakers']?.get, 'GET /v1/admin/breakers');
    for (const action of ['open', 'close', 'reset']) {
      const op = doc.body.paths[`/v1/admin/breakers/{name}/${action}`]?.post;
      assert.ok(op, `POST /v1/admin/breakers/{name}/${action}`);
      assert.match(JSON.stringify(op.requestBody), /"reason"/);
    }
  });

  test('from the CLI: `fleetctl breaker open` reaches every replica within a second; close and reset again', async () => {
    const cli = join(WORKSPACE_ROOT, 'dist/test/api/fleetctl.js');
    execFileSync(process.execPath, ['tools/build.mjs', 'apps/api/src/fleetctl/main.ts', cli], {
      cwd: WORKSPACE_ROOT,
      stdio: 'ignore',
    });
    const fleetctl = (...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [cli, ...args, '--api', api.baseUrl, '--token', admin, '--json'],
          (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
    const t0 = performance.now();
    const [out, seenMs] = await Promise.all([
      fleetctl('breaker', 'open', BREAKER, '--reason', 'cli drill'),
      timeUntilState(2, t0),
    ]);
    console.log(
      `# fleetctl breaker open: circuit_breaker_state=2 on api, poller 1, poller 2 after ${seenMs.map((ms) => ms.toFixed(0)).join(', ')} ms ` +
        `(the CLI's node start included)`,
    );
    for (const ms of seenMs) assert.ok(ms < 1_000, `a replica took ${ms} ms`);
    assert.equal(breakerActionResultSchema.parse(JSON.parse(out)).complete, true);
    const t1 = performance.now();
    const [, closedMs] = await Promise.all([
      fleetctl('breaker', 'close', BREAKER, '--reason', 'cli drill over'),
      timeUntilState(0, t1),
    ]);
    for (const ms of closedMs) assert.ok(ms < 1_000, `a replica took ${ms} ms to close`);
    await fleetctl('breaker', 'reset', BREAKER);
    for (const p of replicas()) assert.equal(await metric(p, 'circuit_breaker_forced'), 0);
    const listed = JSON.parse(await fleetctl('breaker', 'ls')) as BreakersView;
    assert.equal(listed.breakers.find((b) => b.name === BREAKER)?.override, null);
  });

  test('a replica that stops leaves the view at once; the others keep reporting', async () => {
    const stopped = pollers.pop()!;
    await stopped.stop();
    const listed = (await view()).breakers.find((b) => b.name === BREAKER)!;
    assert.deepEqual(listed.replicas.map((r) => r.app).sort(), ['api', 'outbox-poller']);
  });
});
