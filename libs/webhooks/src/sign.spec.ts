import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { signCallback, verifyCallback } from './sign';

const secret = 'test-secret-0123456789';
const id = 'msg_2d7f0c1e-6a52-5b1c-9f0e-1a2b3c4d5e6f';
const now = 1_767_000_000;
const body = JSON.stringify({ type: 'export.completed', jobId: 'j-1', url: 'https://x/y' });

describe('signCallback', () => {
  it('sets the three Standard Webhooks headers', () => {
    const headers = signCallback({ secret, id, timestamp: now, body });
    assert.deepEqual(Object.keys(headers).sort(), ['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    assert.equal(headers['webhook-id'], id);
    assert.equal(headers['webhook-timestamp'], String(now));
  });

  it('signs v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed by the raw secret', () => {
    const headers = signCallback({ secret, id, timestamp: now, body });
    const expected = createHmac('sha256', secret).update(`${id}.${now}.${body}`).digest('base64');
    assert.equal(headers['webhook-signature'], `v1,${expected}`);
  });

  it('keys by the UTF-8 bytes of a non-ASCII secret, as createHmac does', () => {
    const unicode = 'sécret-ключ-秘密-0123456789';
    const headers = signCallback({ secret: unicode, id, timestamp: now, body: '{"ü":1}' });
    const expected = createHmac('sha256', unicode).update(`${id}.${now}.{"ü":1}`).digest('base64');
    assert.equal(headers['webhook-signature'], `v1,${expected}`);
  });

  it('verifies with the standardwebhooks library given the secret as raw bytes', () => {
    const headers = signCallback({ secret, id, timestamp: Math.floor(Date.now() / 1000), body });
    const webhook = new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
    assert.deepEqual(webhook.verify(body, headers), JSON.parse(body));
  });

  it('refuses a secret under 16 characters, a bad id and a bad timestamp', () => {
    assert.throws(() => signCallback({ secret: 'short-secret', id, timestamp: now, body }), /at least 16/);
    assert.throws(() => signCallback({ secret, id: 'has space', timestamp: now, body }), /webhook id/);
    assert.throws(() => signCallback({ secret, id: '', timestamp: now, body }), /webhook id/);
    assert.throws(() => signCallback({ secret, id, timestamp: 1.5, body }), /timestamp/);
  });
});

describe('verifyCallback', () => {
  const signed = signCallback({ secret, id, timestamp: now, body });

  it('accepts its own signature and returns the id', () => {
    assert.deepEqual(verifyCallback({ secret, headers: signed, body, now }), { ok: true, id });
  });

  it('accepts headers in any case and as node:http arrays of one', () => {
    const headers = {
      'Webhook-Id': [id],
      'WEBHOOK-TIMESTAMP': signed['webhook-timestamp'],
      'webhook-signature': `v1,bm90LXRoaXMtb25l ${signed['webhook-signature']}`,
    };
    assert.deepEqual(verifyCallback({ secret, headers, body, now }), { ok: true, id });
  });

  it('refuses a tampered body', () => {
    const result = verifyCallback({ secret, headers: signed, body: body.replace('j-1', 'j-2'), now });
    assert.deepEqual(result, { ok: false, reason: 'no matching v1 signature in webhook-signature' });
  });

  it('refuses a tampered id or timestamp', () => {
    assert.equal(
      verifyCallback({ secret, headers: { ...signed, 'webhook-id': 'other' }, body, now }).ok,
      false,
    );
    const stamp = { ...signed, 'webhook-timestamp': String(now - 1) };
    assert.equal(verifyCallback({ secret, headers: stamp, body, now }).ok, false);
  });

  it('refuses another secret', () => {
    assert.equal(verifyCallback({ secret: 'another-secret-0123456', headers: signed, body, now }).ok, false);
  });

  it('refuses a replay 6 minutes old, accepts 5 minutes', () => {
    const old = verifyCallback({ secret, headers: signed, body, now: now + 360 });
    assert.equal(old.ok, false);
    if (!old.ok) assert.match(old.reason, /360 s old, beyond the 300 s tolerance \(replay refused\)/);
    assert.equal(verifyCallback({ secret, headers: signed, body, now: now + 300 }).ok, true);
  });

  it('refuses a timestamp too far in the future', () => {
    const early = verifyCallback({ secret, headers: signed, body, now: now - 301 });
    assert.equal(early.ok, false);
    if (!early.ok) assert.match(early.reason, /301 s in the future/);
  });

  it('honours a custom tolerance', () => {
    assert.equal(
      verifyCallback({ secret, headers: signed, body, now: now + 61, toleranceSeconds: 60 }).ok,
      false,
    );
    assert.equal(
      verifyCallback({ secret, headers: signed, body, now: now + 59, toleranceSeconds: 60 }).ok,
      true,
    );
  });

  it('uses the real clock by default', () => {
    const fresh = signCallback({ secret, id, timestamp: Math.floor(Date.now() / 1000), body });
    assert.equal(verifyCallback({ secret, headers: fresh, body }).ok, true);
    assert.equal(verifyCallback({ secret, headers: signed, body }).ok, false);
  });

  it('refuses missing, repeated or malformed headers', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers: Record<string, string | undefined> = { ...signed, [name]: undefined };
      const result = verifyCallback({ secret, headers, body, now });
      assert.deepEqual(result, { ok: false, reason: `missing ${name} header` });
    }
    const twice = verifyCallback({ secret, headers: { ...signed, 'webhook-id': [id, id] }, body, now });
    assert.deepEqual(twice, { ok: false, reason: 'webhook-id header given 2 times' });
    const notNumber = verifyCallback({
      secret,
      headers: { ...signed, 'webhook-timestamp': '1e9' },
      body,
      now,
    });
    assert.equal(notNumber.ok, false);
    const v2 = signed['webhook-signature']!.replace(/^v1,/, 'v2,');
    assert.equal(
      verifyCallback({ secret, headers: { ...signed, 'webhook-signature': v2 }, body, now }).ok,
      false,
    );
  });
});
