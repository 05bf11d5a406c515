import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeChannelServer } from './testing';
import { ChannelError } from './errors';
import { createInstagramConnector, instagramTextBody } from './instagram';
import { type ChannelConnector, type ChannelErrorCode } from './types';
import { createWhatsAppConnector, whatsAppTextBody } from './whatsapp';

const API_VERSION = 'v21.0';
const WHATSAPP_TOKEN = 'test-whatsapp-token';
const INSTAGRAM_TOKEN = 'test-instagram-token';
const PHONE_NUMBER_ID = '123456789012345';

let fake: FakeChannelServer;
let whatsApp: ChannelConnector;
let instagram: ChannelConnector;

const request = {
  messageId: '0c9b8f6e-3a5d-4d7b-9f2e-1a2b3c4d5e6f',
  to: '+15551234567',
  text: 'Hello from the fleet',
};
const igRequest = { ...request, to: '1254459154682919' };

function whatsAppWith(overrides: {
  accessToken?: string;
  phoneNumberId?: string;
  timeoutMs?: number;
  baseUrl?: string;
}) {
  return createWhatsAppConnector({
    baseUrl: fake.url,
    apiVersion: API_VERSION,
    phoneNumberId: PHONE_NUMBER_ID,
    accessToken: WHATSAPP_TOKEN,
    ...overrides,
  });
}

/** Runs `send`, which must fail with a ChannelError, and returns that error. */
async function failure(send: () => Promise<unknown>, code: ChannelErrorCode): Promise<ChannelError> {
  try {
    await send();
  } catch (error) {
    assert.ok(error instanceof ChannelError, `expected a ChannelError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the send succeeded`);
}

before(async () => {
  fake = await FakeChannelServer.start({
    tokens: { whatsapp: WHATSAPP_TOKEN, instagram: INSTAGRAM_TOKEN },
    phoneNumberId: PHONE_NUMBER_ID,
  });
  whatsApp = whatsAppWith({});
  instagram = createInstagramConnector({
    baseUrl: fake.url,
    apiVersion: API_VERSION,
    accessToken: INSTAGRAM_TOKEN,
  });
});
afterEach(() => fake.reset());
after(() => fake.stop());

describe('success', () => {
  test('a WhatsApp send returns the wamid and the fake got exactly the documented body', async () => {
    const result = await whatsApp.sendText(request);
    assert.match(result.channelMessageId, /^wamid\.[A-Za-z0-9+/=]+$/);
    const [call] = fake.callsFor('whatsapp');
    assert.deepEqual(call.body, whatsAppTextBody(request));
    assert.equal(call.path, `/${API_VERSION}/${PHONE_NUMBER_ID}/messages`);
    assert.equal(call.messageId, request.messageId);
    assert.equal(call.to, request.to);
    assert.equal(call.text, request.text);
    assert.equal(call.channelMessageId, result.channelMessageId);
    assert.equal(call.status, 200);
    assert.equal(fake.calls.length, 1);
  });

  test('an Instagram send returns the mid and the fake got exactly the documented body', async () => {
    const result = await instagram.sendText(igRequest);
    assert.match(result.channelMessageId, /^mid\./);
    const [call] = fake.callsFor('instagram');
    assert.deepEqual(call.body, instagramTextBody(igRequest));
    assert.equal(call.path, `/${API_VERSION}/me/messages`);
    assert.equal(call.channelMessageId, result.channelMessageId);
    assert.equal(call.status, 200);
  });

  test('two sends get two different ids', async () => {
    const a = await whatsApp.sendText(request);
    const b = await whatsApp.sendText(request);
    assert.notEqual(a.channelMessageId, b.channelMessageId);
  });
});

describe('failures', () => {
  test('when the channel answers 500, the send fails UNAVAILABLE and retriable, with the Graph message', async () => {
    fake.script({ responses: [{ status: 500 }] });
    const error = await failure(() => whatsApp.sendText(request), 'UNAVAILABLE');
    assert.equal(error.retriable, true);
    assert.equal(error.status, 500);
    assert.match(error.message, /An unknown error has occurred\..*code 1\b/);
    assert.match(error.message, /fbtrace_id/);
  });

  test('when the channel answers 400, the send fails REJECTED and not retriable', async () => {
    fake.script({ channel: 'instagram', responses: [{ status: 400 }] });
    const error = await failure(() => instagram.sendText(igRequest), 'REJECTED');
    assert.equal(error.retriable, false);
    assert.equal(error.status, 400);
    assert.equal(error.channel, 'instagram');
    assert.match(error.message, /\(#100\) Invalid parameter.*code 100/);
  });

  test('when the channel answers 429 with Retry-After: 2, the send fails RATE_LIMITED after 2000 ms', async () => {
    fake.script({ responses: [{ status: 429, retryAfter: 2 }] });
    const error = await failure(() => whatsApp.sendText(request), 'RATE_LIMITED');
    assert.equal(error.retriable, true);
    assert.equal(error.status, 429);
    assert.equal(error.retryAfterMs, 2_000);
  });

  test('when the channel answers 503 with an HTTP-date Retry-After, the delay is honoured', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    fake.script({ responses: [{ status: 503, retryAfter: at }] });
    const error = await failure(() => whatsApp.sendText(request), 'UNAVAILABLE');
    assert.ok(
      error.retryAfterMs !== undefined && error.retryAfterMs > 25_000 && error.retryAfterMs <= 30_000,
    );
  });

  test('a Graph throttling code sent with HTTP 400 counts as RATE_LIMITED, not REJECTED', async () => {
    fake.script({
      responses: [
        {
          status: 400,
          body: {
            error: {
              message: '(#130429) Rate limit hit',
              type: 'OAuthException',
              code: 130429,
              fbtrace_id: 'x',
            },
          },
        },
      ],
    });
    const error = await failure(() => whatsApp.sendText(request), 'RATE_LIMITED');
    assert.equal(error.status, 400);
    assert.equal(error.retryAfterMs, undefined);
  });

  test('when the channel answers slower than timeoutMs, the send fails TIMEOUT without waiting it out', async () => {
    fake.script({ responses: [{ delayMs: 3_000 }] });
    const started = Date.now();
    const error = await failure(() => whatsAppWith({ timeoutMs: 300 }).sendText(request), 'TIMEOUT');
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    assert.equal(error.retriable, true);
    assert.equal(error.status, undefined);
    // The fake took the call: a timeout does not mean the message was not sent.
    assert.equal(fake.calls.length, 1);
  });

  test('with a wrong token, the send fails REJECTED with status 401', async () => {
    const error = await failure(() => whatsAppWith({ accessToken: 'stolen' }).sendText(request), 'REJECTED');
    assert.equal(error.status, 401);
    assert.match(error.message, /Invalid OAuth access token.*code 190/);
    assert.equal(fake.calls[0].status, 401);
  });

  test('with an unknown phone number id, the send fails REJECTED naming the object', async () => {
    const error = await failure(() => whatsAppWith({ phoneNumberId: '999' }).sendText(request), 'REJECTED');
    assert.match(error.message, /Object with ID '999' does not exist/);
  });

  test('a text over the channel limit is refused by the channel as REJECTED', async () => {
    const long = await failure(() => whatsApp.sendText({ ...request, text: 'x'.repeat(4097) }), 'REJECTED');
    assert.match(long.message, /at most 4096 characters/);
    await whatsApp.sendText({ ...request, text: 'x'.repeat(4096) });
    const igLong = await failure(
      () => instagram.sendText({ ...igRequest, text: 'x'.repeat(1001) }),
      'REJECTED',
    );
    assert.match(igLong.message, /less than or equal to 1000/);
  });

  test('an invalid recipient is refused as REJECTED', async () => {
    await failure(() => whatsApp.sendText({ ...request, to: 'not-a-number' }), 'REJECTED');
    await failure(() => instagram.sendText({ ...igRequest, to: '@someone' }), 'REJECTED');
  });

  test('a 2xx answer without an id fails UNAVAILABLE with a clear message', async () => {
    fake.script({ responses: [{ status: 200, body: { messaging_product: 'whatsapp', messages: [] } }] });
    const error = await failure(() => whatsApp.sendText(request), 'UNAVAILABLE');
    assert.match(error.message, /without messages\[0\]\.id/);
    fake.script({ channel: 'instagram', responses: [{ status: 200, body: { recipient_id: '1' } }] });
    const igError = await failure(() => instagram.sendText(igRequest), 'UNAVAILABLE');
    assert.match(igError.message, /without message_id/);
  });

  test('a 2xx answer that is not JSON fails UNAVAILABLE', async () => {
    fake.script({ responses: [{ status: 200, body: '<html>proxy</html>' }] });
    const error = await failure(() => whatsApp.sendText(request), 'UNAVAILABLE');
    assert.match(error.message, /not JSON: <html>proxy<\/html>/);
  });

  test('when nothing listens, the send fails UNAVAILABLE naming the connection error', async () => {
    const gone = await FakeChannelServer.start();
    const url = gone.url;
    await gone.stop();
    const error = await failure(() => whatsAppWith({ baseUrl: url }).sendText(request), 'UNAVAILABLE');
    assert.equal(error.status, undefined);
    assert.match(error.message, /ECONNREFUSED/);
  });
});

test('scripted "500 twice then 200": two UNAVAILABLE failures, then the same request succeeds', async () => {
  fake.script({ channel: 'whatsapp', responses: [{ status: 500 }, { status: 500 }], then: 'succeed' });
  await failure(() => whatsApp.sendText(request), 'UNAVAILABLE');
  await failure(() => whatsApp.sendText(request), 'UNAVAILABLE');
  const result = await whatsApp.sendText(request);
  assert.deepEqual(
    fake.calls.map((c) => [c.status, c.scripted]),
    [
      [500, true],
      [500, true],
      [200, false],
    ],
  );
  assert.equal(fake.calls[2].channelMessageId, result.channelMessageId);
  // The rule is spent: later sends are accepted too.
  await whatsApp.sendText(request);
});

test('"always 500" with repeat-last fails every send; other channels are unaffected', async () => {
  fake.script({ channel: 'whatsapp', responses: [{ status: 500 }], then: 'repeat-last' });
  for (let i = 0; i < 3; i += 1) await failure(() => whatsApp.sendText(request), 'UNAVAILABLE');
  await instagram.sendText(igRequest);
});
