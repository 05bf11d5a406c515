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
