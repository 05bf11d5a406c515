import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { deliverCallback, type DeliveryOutcome } from './deliver';
import { callbackEventId } from './event-id';
import { parseAllowlist } from './ssrf';
import { startFakeReceiver } from './testing';

const secret = 'int-test-secret-0123456789';
const allowlist = parseAllowlist('127.0.0.1/32');

/** A bare loopback server counting its hits, for what the fake receiver can't play. */
async function startServer(
  handler: RequestListener,
): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    hits += 1;
    handler(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function event(jobId: string) {
  const id = callbackEventId(jobId, 'export.completed');
  return { id, body: JSON.stringify({ id, type: 'export.completed', jobId, url: 'https://files/x.zip' }) };
}

function assertOutcome<K extends DeliveryOutcome['outcome']>(
  outcome: DeliveryOutcome,
  kind: K,
): asserts outcome is Extract<DeliveryOutcome, { outcome: K }> {
  assert.equal(outcome.outcome, kind, JSON.stringify(outcome));
}

describe('deliverCallback against loopback receivers', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('delivers a signed callback the receiver verifies', async () => {
    const receiver = await startFakeReceiver({ secret });
    cleanups.push(receiver.close);
    const { id, body } = event('job-delivered');
    const outcome = await deliverCallback({
      url: receiver.url,
      id,
      body,
      secret,
      allowlist,
      timeoutMs: 2_000,
    });
    assertOutcome(outcome, 'delivered');
    assert.equal(outcome.status, 200);
    await receiver.waitForEvents(1, 1_000);
    assert.deepEqual(receiver.events.get(id), JSON.parse(body));
    assert.deepEqual(receiver.rejected, []);
    const [delivery] = receiver.deliveries;
    assert.equal(delivery?.headers['content-type'], 'application/json');
    assert.equal(delivery?.headers['user-agent'], 'fleet-webhooks/1');
    assert.equal(delivery?.body, body);
  });

  it('retries through two failures and the receiver takes the event once', async () => {
    const receiver = await startFakeReceiver({ secret, failFirst: 2 });
    cleanups.push(receiver.close);
    const { id, body } = event('job-flaky');
    const attempt = () =>
      deliverCallback({ url: receiver.url, id, body, secret, allowlist, timeoutMs: 2_000 });

    const first = await attempt();
    assertOutcome(first, 'retriable');
    assert.equal(first.status, 503);
    assert.match(first.reason, /503/);
    assertOutcome(await attempt(), 'retriable');
    assertOutcome(await attempt(), 'delivered');
    // A duplicate after success (the sender's ack was lost) is answered 200 and not taken again.
    assertOutcome(await attempt(), 'delivered');

    assert.deepEqual(
      receiver.deliveries.map((d) => d.status),
      [503, 503, 200, 200],
    );
    assert.ok(receiver.deliveries.every((d) => d.id === id));
    assert.equal(receiver.events.size, 1);
  });

  it('gives up on a 400', async () => {
    const receiver = await startFakeReceiver({ secret, failFirst: 1, status: 400 });
    cleanups.push(receiver.close);
    const { id, body } = event('job-refused');
    const outcome = await deliverCallback({
      url: receiver.url,
      id,
      body,
      secret,
      allowlist,
      timeoutMs: 2_000,
    });
    assertOutcome(outcome, 'permanent');
    assert.equal(outcome.status, 400);
    assert.match(outcome.reason, /answered 400/);
    assert.equal(receiver.events.size, 0);
  });

  it('retries a 429', async () => {
    const receiver = await startFakeReceiver({ secret, failFirst: 1, status: 429 });
    cleanups.push(receiver.close);
    const { id, body } = event('job-throttled');
    const outcome = await deliverCallback({
      url: receiver.url,
      id,
      body,
      secret,
      allowlist,
      timeoutMs: 2_000,
    });
    assertOutcome(outcome, 'retriable');
    assert.equal(outcome.status, 429);
  });

  it('does not follow a 302, and reports it as permanent', async () => {
    const target = await startServer((_req, res) => res.writeHead(200).end('taken'));
    cleanups.push(target.close);
    const redirector = await startServer((_req, res) =>
      res.writeHead(302, { location: `${target.url}/elsewhere` }).end(),
    );
    cleanups.push(redirector.close);
    const { id, body } = event('job-redirected');
    const outcome = await deliverCallback({
      url: `${redirector.url}/cb`,
      id,
      body,
      secret,
      allowlist,
      timeoutMs: 2_000,
    });
    assertOutcome(outcome, 'permanent');
    assert.equal(outcome.status, 302);
    assert.match(outcome.reason, /302 \(redirects are not followed\)/);
    assert.equal(redirector.hits(), 1);
    assert.equal(target.hits(), 0);
  });

  it('times out on a receiver that never answers, within the budget', async () => {
    const silent = await startServer(() => undefined);
    cleanups.push(silent.close);
    const { id, body } = event('job-silent');
    const timeoutMs = 300;
    const outcome = await deliverCallback({
      url: `${silent.url}/cb`,
      id,
      body,
      secret,
      allowlist,
      timeoutMs,
    });
    assertOutcome(outcome, 'retriable');
    assert.match(outcome.reason, /timed out after 300 ms/);
    assert.ok(outcome.ms >= timeoutMs - 20 && outcome.ms < timeoutMs + 700, `took ${outcome.ms} ms`);
    assert.equal(silent.hits(), 1);
  });

  it('retries a refused connection', async () => {
    const gone = await startServer(() => undefined);
    await gone.close();
    const { id, body } = event('job-gone');
    const outcome = await deliverCallback({
      url: `${gone.url}/cb`,
      id,
      body,
      secret,
      allowlist,
      timeoutMs: 2_000,
    });
    assertOutcome(outcome, 'retriable');
    assert.match(outcome.reason, /ECONNREFUSED/);
  });

  it('refuses loopback without the allowlist, and the receiver sees nothing', async () => {
    const receiver = await startFakeReceiver({ secret });
    cleanups.push(receiver.close);
    const { id, body } = event('job-ssrf');
    const outcome = await deliverCallback({
      url: receiver.url,
      id,
      body,
      secret,
      allowlist: [],
      timeoutMs: 2_000,
    });
    assertOutcome(outcome, 'permanent');
    assert.equal(outcome.status, undefined);
    assert.match(
      outcome.reason,
      /127\.0\.0\.1 \(loopback\), which is refused; allow it with EXPORT_CALLBACK_ALLOWLIST/,
    );
    assert.equal(receiver.deliveries.length + receiver.rejected.length, 0);
  });

  it('connects only to the checked address, however the name resolves later (DNS rebinding)', async () => {
    const receiver = await startFakeReceiver({ secret });
    cleanups.push(receiver.close);
    const port = new URL(receiver.url).port;
    // The name exists only in this lookup: reaching the receiver proves the connect used the pinned
    // address, and one lookup call proves nothing re-resolved it between check and connect.
    let lookups = 0;
    const lookup = async () => {
      lookups += 1;
      return lookups === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }];
    };
    const { id, body } = event('job-rebind');
    const outcome = await deliverCallback({
      url: `http://hooks.rebind.test:${port}/callback`,
      id,
      body,
      secret,
      allowlist,
      lookup,
      timeoutMs: 2_000,
    });
    assertOutcome(outcome, 'delivered');
    assert.equal(lookups, 1);
    assert.equal(receiver.deliveries[0]?.headers.host, `hooks.rebind.test:${port}`);
  });

  it('signs with a timestamp from the given clock, which the receiver refuses when stale', async () => {
    const receiver = await startFakeReceiver({ secret });
    cleanups.push(receiver.close);
    const { id, body } = event('job-stale');
    const outcome = await deliverCallback({
      url: receiver.url,
      id,
      body,
      secret,
      allowlist,
      timeoutMs: 2_000,
      now: () => Date.now() - 6 * 60_000,
    });
    assertOutcome(outcome, 'permanent');
    assert.equal(outcome.status, 401);
    assert.match(receiver.rejected[0]?.reason ?? '', /replay refused/);
    assert.equal(receiver.events.size, 0);
  });

  it('is refused by a receiver holding another secret', async () => {
    const receiver = await startFakeReceiver({ secret: 'a-different-secret-0123' });
    cleanups.push(receiver.close);
    const { id, body } = event('job-wrong-secret');
    const outcome = await deliverCallback({
      url: receiver.url,
      id,
      body,
      secret,
      allowlist,
      timeoutMs: 2_000,
    });
    assertOutcome(outcome, 'permanent');
    assert.equal(outcome.status, 401);
    assert.match(receiver.rejected[0]?.reason ?? '', /no matching v1 signature/);
  });
});
