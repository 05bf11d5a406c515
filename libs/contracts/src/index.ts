export {
  TOPIC_NAME_PATTERN,
  ContractError,
  defineTopic,
  retryTopicOf,
  dlqTopicOf,
  type TopicContract,
  type TopicDefinition,
} from './topic';
export { FleetHeaders, DLQ_REASONS, type DlqReason, type FleetHeaderName } from './headers';
export {
  FALLBACK_DEAD,
  FALLBACK_DRAIN_LOCK,
  FALLBACK_PROCESSING,
  FALLBACK_QUEUE,
  OUTBOX_PUBLISHED_CHANNEL,
  fallbackDeadEntrySchema,
  fallbackRecordSchema,
  outboxPublishedNotificationSchema,
  type FallbackDeadEntry,
  type FallbackRecord,
  type OutboxPublishedNotification,
} from './fallback';
export { ALL_TOPICS } from './topics';
