export { createKafkaClient, type KafkaClientOptions } from './client';
export { provisionTopics, type ProvisionOptions, type ProvisionResult } from './provisioning';
export {
  FleetProducer,
  type CallGuard,
  type FallbackSink,
  type SendOutcome,
  type FleetProducerOptions,
  type OutgoingMessage,
  type RawRecord,
  type TopicRecords,
} from './producer';
export {
  FleetConsumer,
  subscribe,
  type FleetConsumerOptions,
  type MessageContext,
  type BatchHandler,
  type BatchItem,
  type MessageHandler,
  type SubscribeOptions,
  type Subscription,
} from './consumer';
export { DEFAULT_RETRY_POLICY, backoffMs, type RetryPolicy } from './backoff';
export {
  KafkaRuntimeError,
  NonRetriableError,
  RetriableError,
  classifyHandlerError,
  isDependencyUnavailable,
  classifyPublishError,
  retryAfterMsOf,
  type ErrorOutcome,
  type PublishFailure,
  type KafkaRuntimeErrorCode,
} from './errors';
export { checkKafka } from './health';
export {
  consumerLag,
  type ConsumerLagOptions,
  type GroupLag,
  type PartitionLag,
  type TopicLag,
} from './admin-lag';
export { RecordTap, type RecordTapOptions, type TappedRecord } from './record-tap';
export {
  groupOffsets,
  groupsOnTopic,
  locateRecord,
  partitionCounts,
  partitionFor,
  partitionOfKey,
  type GroupOffsets,
  type LocateOptions,
} from './record-locator';
export { type RuntimeLogger } from './logger';
export { kafkaMetrics, type KafkaMetrics } from './metrics';
export { contextFromHeaders } from './tracing';
export { TopicGuard } from './topic-guard';
// The client type travels with the factory so callers can hold one without importing kafkajs.
export type { Kafka as KafkaClient } from 'kafkajs';
