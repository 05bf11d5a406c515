export {
  type ChannelConnector,
  type ChannelErrorCode,
  type ChannelErrorLike,
  type ChannelStatusEvent,
  type InstagramConnectorOptions,
  type SendResult,
  type SendTextRequest,
  type WhatsAppConnectorOptions,
} from './types';
export {
  ChannelError,
  isChannelError,
  WebhookPayloadError,
  type ChannelErrorDetails,
  type WebhookPayloadErrorCode,
} from './errors';
export { parseRetryAfter } from './retry-after';
export { DEFAULT_TIMEOUT_MS } from './graph-http';
export { createWhatsAppConnector, whatsAppTextBody } from './whatsapp';
export { createInstagramConnector, instagramTextBody } from './instagram';
export {
  answerSubscriptionChallenge,
  signWebhookBody,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
} from './webhook-signature';
export {
  parseInstagramWebhook,
  parseWhatsAppWebhook,
  type InstagramMessagingEvent,
  type InstagramWebhook,
  type WhatsAppStatusWebhook,
  type WhatsAppWebhookStatus,
} from './webhook-payloads';
