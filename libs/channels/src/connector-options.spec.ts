import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInstagramConnector } from './instagram';
import { createWhatsAppConnector, whatsAppTextBody } from './whatsapp';
import { instagramTextBody } from './instagram';

const whatsApp = { baseUrl: 'http://127.0.0.1:1', apiVersion: 'v21.0', phoneNumberId: '1', accessToken: 't' };

test('a connector with malformed options fails at creation, naming the option', () => {
  const cases: Array<[string, Partial<typeof whatsApp> & { timeoutMs?: number }, RegExp]> = [
    ['relative baseUrl', { baseUrl: '/graph' }, /baseUrl/],
    ['non-http baseUrl', { baseUrl: 'ftp://x' }, /baseUrl/],
    ['apiVersion without v', { apiVersion: '21.0' }, /apiVersion/],
    ['empty token', { accessToken: ' ' }, /accessToken/],
    ['zero timeout', { timeoutMs: 0 }, /timeoutMs/],
    ['empty phone number id', { phoneNumberId: '' }, /path segment/],
  ];
  for (const [name, override, message] of cases) {
    assert.throws(() => createWhatsAppConnector({ ...whatsApp, ...override }), message, name);
  }
  assert.throws(
    () => createInstagramConnector({ baseUrl: 'nope', apiVersion: 'v21.0', accessToken: 't' }),
    /instagram connector: baseUrl/,
  );
});

test('well-formed options create a connector for its channel without any I/O', () => {
  assert.equal(createWhatsAppConnector(whatsApp).channel, 'whatsapp');
  assert.equal(createInstagramConnector({ ...whatsApp }).channel, 'instagram');
});

test('the request bodies are the documented shapes', () => {
  const request = { messageId: 'm-1', to: '+15551234567', text: 'hello https://example.com' };
  assert.deepEqual(whatsAppTextBody(request), {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: '+15551234567',
    type: 'text',
    text: { preview_url: false, body: 'hello https://example.com' },
    biz_opaque_callback_data: 'm-1',
  });
  assert.deepEqual(instagramTextBody({ ...request, to: '1234' }), {
    recipient: { id: '1234' },
    message: { text: 'hello https://example.com' },
  });
});
