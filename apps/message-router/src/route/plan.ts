import {
  CHANNEL_TEXT_LIMITS,
  deliveryChannelsOf,
  type DeliveryChannel,
  type OutgoingMessage,
} from '@fleet/contracts';

/** Why a channel can never take a message: no retry, no call, a FAILED status. */
export type InvalidCode = 'TEXT_TOO_LONG' | 'RECIPIENT_MISSING';

/** What to do on one channel of a message, decided before anything is sent. */
export type ChannelPlan =
  | { channel: DeliveryChannel; kind: 'send'; to: string }
  | { channel: DeliveryChannel; kind: 'invalid'; code: InvalidCode; reason: string };

/**
 * One plan per channel the message goes to (`all` → WhatsApp then Instagram). The channel's limit
 * is checked here, in UTF-16 code units as both APIs count them, so an over-long text is never
 * sent only to be refused.
 */
export function planDeliveries(message: OutgoingMessage): ChannelPlan[] {
  return deliveryChannelsOf(message.channel).map((channel): ChannelPlan => {
    const to = message.recipients[channel];
    if (!to) {
      return {
        channel,
        kind: 'invalid',
        code: 'RECIPIENT_MISSING',
        reason: `RECIPIENT_MISSING: the message has no ${channel} recipient`,
      };
    }
    const limit = CHANNEL_TEXT_LIMITS[channel];
    if (message.text.length > limit) {
      return {
        channel,
        kind: 'invalid',
        code: 'TEXT_TOO_LONG',
        reason: `TEXT_TOO_LONG: ${message.text.length} > ${limit} characters (${channel})`,
      };
    }
    return { channel, kind: 'send', to };
  });
}
