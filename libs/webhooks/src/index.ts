export { callbackEventId, CALLBACK_EVENT_NAMESPACE } from './event-id';
export {
  DEFAULT_TOLERANCE_SECONDS,
  MIN_SECRET_LENGTH,
  signCallback,
  verifyCallback,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from './sign';
export {
  checkCallbackUrl,
  classifyAddress,
  DEFAULT_ALLOWLIST_SETTING,
  parseAllowlist,
  type AddressVerdict,
  type AllowlistCidr,
  type AllowlistEntry,
  type AllowlistHost,
  type HostLookup,
  type UrlCheck,
} from './ssrf';
export {
  classifyStatus,
  DEFAULT_USER_AGENT,
  deliverCallback,
  type DeliverCallbackOptions,
  type DeliveryOutcome,
} from './deliver';
