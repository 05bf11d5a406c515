import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyStatus, deliverCallback } from './deliver';

describe('classifyStatus', () => {
  it('takes 2xx as delivered', () => {
    for (const status of [200, 201, 202, 204, 299])
      assert.equal(classifyStatus(status), 'delivered', String(status));
  });

  it('retries 408, 425, 429 and 5xx', () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504, 599]) {
      assert.equal(classifyStatus(status), 'retriable', String(status));
    }
  });

  it('gives up on 3xx and other 4xx', () => {
    for (const status of [100, 301, 302, 303, 307, 308, 400, 401, 403, 404, 410, 413, 422]) {
      assert.equal(classifyStatus(status), 'permanent', String(status));
    }
  });
});

describe('deliverCallback without the network', () => {
  const base = { id: 'evt-1', body: '{}', secret: 'test-secret-0123456789', timeoutMs: 500 };

  it('refuses a blocked URL permanently and never connects', async () => {
    const outcome = await deliverCallback({ ...base, url: 'http://10.0.0.1:1/cb', allowlist: [] });
    assert.equal(outcome.outcome, 'permanent');
    if (outcome.outcome === 'permanent') assert.match(outcome.reason, /10\.0\.0\.1 \(private\)/);
  });

  it('retries a temporary DNS failure', async () => {
    const outcome = await deliverCallback({
      ...base,
      url: 'https://hooks.test/cb',
      allowlist: [],
      lookup: () => Promise.reject(Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' })),
    });
    assert.equal(outcome.outcome, 'retriable');
  });

  it('retries a resolver that never answers, within the timeout', async () => {
    const outcome = await deliverCallback({
      ...base,
      timeoutMs: 100,
      url: 'https://hooks.test/cb',
      allowlist: [],
      lookup: () => new Promise(() => undefined),
    });
    assert.equal(outcome.outcome, 'retriable');
    if (outcome.outcome === 'retriable') assert.match(outcome.reason, /timed out after 100 ms/);
    assert.ok(outcome.ms < 1000, `took ${outcome.ms} ms`);
  });

  it('throws on a short secret rather than reporting an outcome', async () => {
    await assert.rejects(
      deliverCallback({ ...base, secret: 'short', url: 'http://10.0.0.1/', allowlist: [] }),
      /at least 16/,
    );
  });
});
