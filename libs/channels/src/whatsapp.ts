import { ChannelError } from './errors';
import { graphEndpoint, postGraph } from './graph-http';
import {
  type ChannelConnector,
  type SendTextRequest,
  type SendResult,
  type WhatsAppConnectorOptions,
} from './types';

/**
 * The request body of a WhatsApp Cloud API text message. Our message id rides along as
 * `biz_opaque_callback_data`, which WhatsApp echoes in every status webhook of the message.
 */
export function whatsAppTextBody(request: SendTextRequest): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: request.to,
    type: 'text',
    // Link previews would make the recipient's client fetch URLs from our users' text.
    text: { preview_url: false, body: request.text },
    biz_opaque_callback_data: request.messageId,
  };
}

/**
 * A connector for the WhatsApp Cloud API: `POST {baseUrl}/{apiVersion}/{phoneNumberId}/messages`.
 *
 * One call per `sendText`, no retries inside: the caller (the message-router's Kafka consumer)
 * owns retry policy and uses the thrown {@link ChannelError}'s `code` and `retryAfterMs`.
 *
 * @throws TypeError at creation when an option is malformed (empty token, relative URL…).
 */
export function createWhatsAppConnector(options: WhatsAppConnectorOptions): ChannelConnector {
  const endpoint = graphEndpoint('whatsapp', options, [options.phoneNumberId, 'messages']);
  return {
    channel: 'whatsapp',
    async sendText(request: SendTextRequest): Promise<SendResult> {
      const answer = await postGraph(endpoint, whatsAppTextBody(request));
      const id = (answer as { messages?: Array<{ id?: unknown }> } | null)?.messages?.[0]?.id;
      if (typeof id !== 'string' || id === '') {
        // The message may have been accepted: UNAVAILABLE (retried) risks a duplicate, REJECTED
        // would drop a message that perhaps never left. WhatsApp has no idempotency key to do better.
        throw new ChannelError(
          'UNAVAILABLE',
          'whatsapp',
          `whatsapp: 2xx answer from ${endpoint.url} without messages[0].id`,
        );
      }
      return { channelMessageId: id };
    },
  };
}
