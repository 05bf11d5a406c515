import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OutgoingMessage } from '@fleet/contracts';
import { planDeliveries } from './plan';

const message = (overrides: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  messageId: '7d3f3a52-8a53-4c49-9a8c-0d9a1a0e2f11',
  conversationId: 'c0a8e1f2-1b2c-4d3e-8f90-123456789abc',
  senderId: 'user-1',
  channel: 'all',
  text: 'hello',
  recipients: { whatsapp: '+5511999990000', instagram: '1784000000000001' },
  createdAt: '2025-01-01T00:00:00.000Z',
  ...overrides,
});

describe('planDeliveries', () => {
  it('when the channel is all, plans WhatsApp then Instagram, each to its own recipient', () => {
    assert.deepEqual(planDeliveries(message()), [
      { channel: 'whatsapp', kind: 'send', to: '+5511999990000' },
      { channel: 'instagram', kind: 'send', to: '1784000000000001' },
    ]);
  });

  it('when the channel is one channel, plans only that one', () => {
    assert.deepEqual(
      planDeliveries(message({ channel: 'instagram' })).map((p) => p.channel),
      ['instagram'],
    );
  });

  it('when the text is exactly at the Instagram limit it is sent; one more character fails Instagram only', () => {
    assert.equal(planDeliveries(message({ channel: 'instagram', text: 'x'.repeat(1000) }))[0]!.kind, 'send');
    const [whatsapp, instagram] = planDeliveries(message({ text: 'x'.repeat(1001) }));
    assert.equal(whatsapp!.kind, 'send');
    assert.deepEqual(instagram, {
      channel: 'instagram',
      kind: 'invalid',
      code: 'TEXT_TOO_LONG',
      reason: 'TEXT_TOO_LONG: 1001 > 1000 characters (instagram)',
    });
  });

  it('when the text is over the WhatsApp limit, WhatsApp fails with the reason', () => {
    const [plan] = planDeliveries(message({ channel: 'whatsapp', text: 'y'.repeat(4097) }));
    assert.equal(plan!.kind, 'invalid');
    assert.match((plan as { reason: string }).reason, /^TEXT_TOO_LONG: 4097 > 4096/);
  });

  it('counts UTF-16 code units, as the channel APIs do (an emoji is two)', () => {
    const [plan] = planDeliveries(message({ channel: 'instagram', text: '😀'.repeat(501) }));
    assert.equal(plan!.kind, 'invalid');
  });

  it('when a channel has no recipient, that channel fails and the other is still sent', () => {
    assert.deepEqual(planDeliveries(message({ recipients: { whatsapp: '+5511999990000' } })), [
      { channel: 'whatsapp', kind: 'send', to: '+5511999990000' },
      {
        channel: 'instagram',
        kind: 'invalid',
        code: 'RECIPIENT_MISSING',
        reason: 'RECIPIENT_MISSING: the message has no instagram recipient',
      },
    ]);
  });
});
