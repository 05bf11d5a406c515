import { chatMessageOutgoing, chatMessageStatus } from './chat';
import { generationJobRequested, poolJobRequested } from './jobs';
import { exportCallbackRequested, exportJobRequested } from './exports';
import { uploadMergeRequested } from './uploads';
import { type TopicContract } from './topic';

/**
 * Every topic of the fleet. The outbox poller provisions them all at start (it may publish to
 * any), and each consuming app provisions the ones it reads. Add a topic here when you define it.
 */
export const ALL_TOPICS: ReadonlyArray<TopicContract<unknown>> = [
  chatMessageOutgoing,
  chatMessageStatus,
  uploadMergeRequested,
  generationJobRequested,
  poolJobRequested,
  exportJobRequested,
  exportCallbackRequested,
] as ReadonlyArray<TopicContract<unknown>>;
