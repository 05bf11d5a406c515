export {
  TOPIC_NAME_PATTERN,
  ContractError,
  defineTopic,
  inNamespace,
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
export {
  CHANNEL_TEXT_LIMITS,
  CHAT_CHANNELS,
  DELIVERY_CHANNELS,
  MESSAGE_STATUSES,
  STATUS_UPDATES,
  chatMessageOutgoing,
  chatMessageStatus,
  deliveryChannelsOf,
  messageStatusUpdateSchema,
  outgoingMessageSchema,
  recipientsSchema,
  statusRank,
  type ChatChannel,
  type DeliveryChannel,
  type MessageStatus,
  type MessageStatusUpdate,
  type OutgoingMessage,
  type Recipients,
  type StatusUpdateKind,
} from './chat';
export {
  UPLOAD_STATUSES,
  mergeRequestSchema,
  uploadMergeRequested,
  type MergeRequest,
  type UploadStatus,
} from './uploads';
