import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type TestSchema } from '@fleet/db/testing';
import {
  call,
  createApiSchema,
  createKeys,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

describe('api rate limit, health and shutdown', () => {
  let db: TestSchema;
  let keys: TestKeys;
  let api: ApiUnderTest;

  before(async () => {
    db = await createApiSchema();
    keys = await createKeys();
    api = await startApi(db.schema, keys, {
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_WINDOW_MS: '1m',
      UPLOAD_CHUNK_RATE_LIMIT_MAX: '8',
    });
  });
  after(async () => {
    await api?.stop();
    await db?.drop();
  });

  test('past the limit a user gets 429 with Retry-After in the error format; another user is not affected', async () => {
    const alice = await tokenFor(keys, `alice-${Date.now()}`);
    const bob = await tokenFor(keys, `bob-${Date.now()}`);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await call(api, 'GET', '/v1/conversations/not-a-uuid', { token: alice })).status);
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429]);
    const limited = await call<{ error: { code: string; message: string } }>(
      api,
      'GET',
      '/v1/conversations/not-a-uuid',
      { token: alice },
    );
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After in seconds');
    assert.equal((await call(api, 'GET', '/v1/conversations/not-a-uuid', { token: bob })).status, 400);
  });

  test('upload chunks count on a budget of their own: past the general limit chunks pass, past theirs 429', async () => {
    const dave = await tokenFor(keys, `dave-${Date.now()}`);
    const general: number[] = [];
    for (let i = 0; i < 6; i++)
      general.push((await call(api, 'GET', '/v1/conversations/not-a-uuid', { token: dave })).status);
    assert.deepEqual(general, [400, 400, 400, 400, 400, 429]);
    // Chunks of an upload nobody has: 404 after the limiter, no object written.
    const chunks: number[] = [];
    for (let i = 0; i < 9; i++) {
      const response = await fetch(`${api.baseUrl}/v1/uploads/${randomUUID()}/chunks/0`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${dave}`, 'content-type': 'application/octet-stream' },
        body: Buffer.from('chunk'),
      });
      await response.arrayBuffer();
      chunks.push(response.status);
    }
    assert.deepEqual(chunks, [...Array<number>(8).fill(404), 429]);
  });

  test('health: live and ready (postgres, kafka, redis, minio) on HEALTH_PORT', async () => {
    const ready = await fetch(`http://127.0.0.1:${api.process.port}/health/ready`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { checks: Record<string, string> };
    assert.deepEqual(body.checks, { postgres: 'ok', kafka: 'ok', redis: 'ok', minio: 'ok' });
  });

  test('SIGTERM: an in-flight request still completes, then the process exits 0', async () => {
    const token = await tokenFor(keys, 'carol');
    const inFlight = call(api, 'POST', '/v1/conversations', {
      token,
      body: { participants: [], channel: 'whatsapp', recipients: { whatsapp: '+5511999990000' } },
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const exited = api.process.stop('SIGTERM');
    assert.equal((await inFlight).status, 201);
    assert.equal((await exited).code, 0);
    assert.ok(api.process.logs().some((l) => l.message === 'shutdown complete'));
  });
});
