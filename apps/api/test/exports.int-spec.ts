/**
 * Export requests through the bundled api (a child process) against the real PostgreSQL: creation
 * (job + export_requests + outbox in one transaction), idempotency, every bad input refused with
 * a 4xx naming the field and nothing written, status and cancel, the public keys. The bundles
 * themselves are the exporter's (apps/exporter/test).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sqlOf, type Sql } from '@fleet/db';
import { type TestSchema } from '@fleet/db/testing';
import { ExportStore } from '@fleet/exports';
import {
  call,
  createApiSchema,
  createKeys,
  MINIO_ENV,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

let db: TestSchema;
let keys: TestKeys;
let api: ApiUnderTest;
let designer: string;
let stranger: string;
let sql: Sql;

before(async () => {
  db = await createApiSchema();
  sql = sqlOf(db.dataSource.manager);
  keys = await createKeys();
  // Loopback receivers are allowed by CIDR; everything else follows the SSRF rule.
  api = await startApi(db.schema, keys, { ...MINIO_ENV, EXPORT_CALLBACK_ALLOWLIST: '127.0.0.1/32' });
  designer = await tokenFor(keys, 'designer-1');
  stranger = await tokenFor(keys, 'designer-2');
});

after(async () => {
  await api?.stop();
  await db?.drop();
});

/** A map job of `owner` in `status`, as the generation worker leaves it. */
async function mapJob(
  owner: string,
  status: 'COMPLETED' | 'PENDING' | 'FAILED' = 'COMPLETED',
): Promise<string> {
  const id = randomUUID();
  await sql.rows(
    `INSERT INTO jobs (id, kind, owner_id, status, input, result, finished_at)
     VALUES ($1, 'map_generation', $2, $3, '{}'::jsonb, $4::jsonb, CASE WHEN $3 = 'PENDING' THEN NULL ELSE now() END)`,
    [
      id,
      owner,
      status,
      JSON.stringify({ artifacts: { json: `jobs/${id}/map.json`, svg: `jobs/${id}/map.svg` } }),
    ],
  );
  return id;
}

const written = async () => {
  const [row] = await sql.rows<{ jobs: number; requests: number; outbox: number }>(
    `SELECT (SELECT count(*) FROM jobs WHERE kind = 'export_bundle')::int AS jobs,
            (SELECT count(*) FROM export_requests)::int AS requests,
            (SELECT count(*) FROM outbox_events WHERE topic LIKE 'export.%')::int AS outbox`,
  );
  return row!;
};

/** `key` null: no Idempotency-Key header at all. */
const post = (body: unknown, key: string | null = randomUUID(), token = designer) =>
  call<Record<string, unknown>>(api, 'POST', '/v1/exports', {
    token,
    body,
    headers: key === null ? {} : { 'idempotency-key': key },
  });

describe('POST /v1/exports', () => {
  test('creates the job, its request row and its outbox request in one go; 202 with Location', async () => {
    const project = await mapJob('designer-1');
    const before = await written();
    const answer = await post({
      project_id: project,
      engines: ['godot', 'ue5'],
      quality: 'high',
      seed: 'seed-1',
    });
    assert.equal(answer.status, 202, answer.text);
    const exportId = answer.body.exportId as string;
    assert.equal(answer.headers.get('location'), `/v1/exports/${exportId}`);
    assert.deepEqual(await written(), {
      jobs: before.jobs + 1,
      requests: before.requests + 1,
      outbox: before.outbox + 1,
    });
    const [job] = await sql.rows<{ input: Record<string, unknown>; owner_id: string; max_attempts: number }>(
      'SELECT input, owner_id, max_attempts FROM jobs WHERE id = $1',
      [exportId],
    );
    assert.deepEqual(job!.input, {
      projectId: project,
      engines: ['godot', 'ue5'],
      includeAssets: false,
      quality: 'high',
      seed: 'seed-1',
      godotVersion: 4,
    });
    assert.equal(job!.max_attempts, 3);
    const [outbox] = await sql.rows<{ topic: string; aggregate_key: string }>(
      `SELECT topic, aggregate_key FROM outbox_events WHERE payload->>'jobId' = $1`,
      [exportId],
    );
    assert.equal(outbox!.topic, 'export.job.requested.1');

    const view = await call<Record<string, unknown>>(api, 'GET', `/v1/exports/${exportId}`, {
      token: designer,
    });
    assert.equal(view.status, 200, view.text);
    assert.equal(view.body.status, 'PENDING');
    assert.deepEqual(view.body.request, {
      project_id: project,
      engines: ['godot', 'ue5'],
      include_assets: false,
      quality: 'high',
      seed: 'seed-1',
      godot_version: 4,
      callback_url: null,
    });
    assert.equal(view.body.bundles, undefined, 'no downloads before COMPLETED');
    // Another user sees no such export.
    assert.equal((await call(api, 'GET', `/v1/exports/${exportId}`, { token: stranger })).status, 404);
  });

  test('the seed defaults to the export id; the same key and body replays (200), another body is 422', async () => {
    const project = await mapJob('designer-1');
    const key = randomUUID();
    const body = { project_id: project, engines: ['unity'] };
    const first = await post(body, key);
    assert.equal(first.status, 202, first.text);
    const exportId = first.body.exportId as string;
    const [job] = await sql.rows<{ seed: string }>(`SELECT input->>'seed' AS seed FROM jobs WHERE id = $1`, [
      exportId,
    ]);
    assert.equal(job!.seed, exportId);
    const before = await written();
    const again = await post(body, key);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.exportId, exportId);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const other = await post({ ...body, quality: 'low' }, key);
    assert.equal(other.status, 422, other.text);
    assert.equal((other.body as unknown as ErrorBody).error.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.deepEqual(await written(), before, 'a replay and a refusal write nothing');
    // Concurrent requests with one key: one export.
    const key2 = randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(body, key2)));
    assert.equal(new Set(answers.map((a) => a.body.exportId)).size, 1);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 202]);
  });

  test('bad input: a 4xx naming the field, nothing enqueued', async () => {
    const project = await mapJob('designer-1');
    const pending = await mapJob('designer-1', 'PENDING');
    const theirs = await mapJob('designer-2');
    const ok = { project_id: project, engines: ['godot'] };
    const cases: { body: unknown; key?: string | null; status: number; code: string; names: RegExp }[] = [
      {
        body: { ...ok, engines: ['godot', 'cryengine'] },
        status: 400,
        code: 'VALIDATION_FAILED',
        names: /body\.engines\.1/,
      },
      {
        body: { ...ok, engines: [] },
        status: 400,
        code: 'VALIDATION_FAILED',
        names: /body\.engines: name at least one engine/,
      },
      {
        body: { ...ok, engines: ['godot', 'godot'] },
        status: 400,
        code: 'VALIDATION_FAILED',
        names: /body\.engines: engines must not repeat/,
      },
      { body: { ...ok, quality: 'ultra' }, status: 400, code: 'VALIDATION_FAILED', names: /body\.quality/ },
      {
        body: { ...ok, godot_version: 2 },
        status: 400,
        code: 'VALIDATION_FAILED',
        names: /body\.godot_version/,
      },
      {
        body: { ...ok, project_id: 'not-a-uuid' },
        status: 400,
        code: 'VALIDATION_FAILED',
        names: /body\.project_id/,
      },
      { body: { ...ok, colour: 'red' }, status: 400, code: 'VALIDATION_FAILED', names: /colour/ },
      {
        body: { ...ok, project_id: theirs },
        status: 422,
        code: 'PROJECT_NOT_FOUND',
        names: /body\.project_id/,
      },
      {
        body: { ...ok, project_id: randomUUID() },
        status: 422,
        code: 'PROJECT_NOT_FOUND',
        names: /body\.project_id/,
      },
      {
        body: { ...ok, project_id: pending },
        status: 422,
        code: 'PROJECT_NOT_COMPLETED',
        names: /body\.project_id: .* is PENDING/,
      },
      {
        body: { ...ok, manifest: { blob: 'x'.repeat(20_000) } },
        status: 400,
        code: 'MANIFEST_TOO_LARGE',
        names: /body\.manifest is 2\d{4} bytes/,
      },
      { body: { ...ok, manifest: ['a'] }, status: 400, code: 'VALIDATION_FAILED', names: /body\.manifest/ },
      {
        body: { ...ok, callback_url: 'ftp://example.com/hook' },
        status: 400,
        code: 'CALLBACK_URL_INVALID',
        names: /body\.callback_url/,
      },
      {
        body: { ...ok, callback_url: 'not a url' },
        status: 400,
        code: 'CALLBACK_URL_INVALID',
        names: /body\.callback_url/,
      },
      {
        body: { ...ok, callback_url: 'http://10.0.0.8/hook' },
        status: 422,
        code: 'CALLBACK_URL_REFUSED',
        names: /body\.callback_url: .*10\.0\.0\.8/,
      },
      {
        body: { ...ok, callback_url: 'http://169.254.169.254/latest/meta-data' },
        status: 422,
        code: 'CALLBACK_URL_REFUSED',
        names: /body\.callback_url/,
      },
      {
        body: { ...ok, callback_url: 'http://[::1]:9/hook' },
        status: 422,
        code: 'CALLBACK_URL_REFUSED',
        names: /body\.callback_url/,
      },
      {
        body: { ...ok, callback_url: 'http://user:pw@127.0.0.1/hook' },
        status: 400,
        code: 'CALLBACK_URL_INVALID',
        names: /body\.callback_url/,
      },
      { body: ok, key: null, status: 400, code: 'IDEMPOTENCY_KEY_MISSING', names: /Idempotency-Key/ },
    ];
    const before = await written();
    for (const c of cases) {
      const answer = await post(c.body, c.key === undefined ? randomUUID() : c.key);
      const label = JSON.stringify(c.body).slice(0, 120);
      assert.equal(answer.status, c.status, `${label}: ${answer.text}`);
      const { error } = answer.body as unknown as ErrorBody;
      assert.equal(error.code, c.code, `${label}: ${answer.text}`);
      assert.match(answer.text, c.names, label);
    }
    assert.deepEqual(await written(), before, 'nothing enqueued by any refusal');
    // The allowlisted loopback receiver is accepted.
    const allowed = await post({ ...ok, callback_url: 'http://127.0.0.1:9/hook' });
    assert.equal(allowed.status, 202, allowed.text);
  });

  test('the owner cancels a PENDING export; a stranger cannot; a finished one is 409', async () => {
    const project = await mapJob('designer-1');
    const created = await post({ project_id: project, engines: ['godot'] });
    const id = created.body.exportId as string;
    assert.equal((await call(api, 'POST', `/v1/exports/${id}/cancel`, { token: stranger })).status, 404);
    const cancelled = await call<Record<string, unknown>>(api, 'POST', `/v1/exports/${id}/cancel`, {
      token: designer,
    });
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.status, 'CANCELLED');
    const again = await call<ErrorBody>(api, 'POST', `/v1/exports/${id}/cancel`, { token: designer });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'JOB_FINISHED');
    // A map job is not an export.
    assert.equal((await call(api, 'GET', `/v1/exports/${project}`, { token: designer })).status, 404);
  });

  test('uploads and campaigns link to a project; a project that is not a map job is refused', async () => {
    const project = await mapJob('designer-1');
    const upload = await call<Record<string, unknown>>(api, 'POST', '/v1/uploads', {
      token: designer,
      body: { filename: 'rock.png', size: 10, contentType: 'image/png', projectId: project },
    });
    assert.equal(upload.status, 201, upload.text);
    const [row] = await sql.rows<{ project_id: string }>('SELECT project_id FROM uploads WHERE id = $1', [
      upload.body.id,
    ]);
    assert.equal(row!.project_id, project);
    const theirs = await call<ErrorBody>(api, 'POST', '/v1/uploads', {
      token: stranger,
      body: { filename: 'rock.png', size: 10, contentType: 'image/png', projectId: project },
    });
    assert.equal(theirs.status, 422);
    assert.match(theirs.text, /body\.projectId/);
  });
});

describe('GET /v1/exports/keys', () => {
  test('every published key, without a token', async () => {
    const store = new ExportStore();
    await store.publishKey(sql, {
      keyId: 'ed25519:test-key-1',
      algorithm: 'Ed25519',
      jwk: { kty: 'OKP', crv: 'Ed25519', x: 'abc' },
      spkiPem: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n',
    });
    const answer = await call<{ keys: { keyId: string; algorithm: string; jwk: unknown }[] }>(
      api,
      'GET',
      '/v1/exports/keys',
    );
    assert.equal(answer.status, 200, answer.text);
    const key = answer.body.keys.find((k) => k.keyId === 'ed25519:test-key-1');
    assert.ok(key);
    assert.equal(key.algorithm, 'Ed25519');
    assert.deepEqual(key.jwk, { kty: 'OKP', crv: 'Ed25519', x: 'abc' });
  });
});
