export {
  currentTraceparent,
  enqueue,
  enqueueAll,
  OUTBOX_ROW_COLUMNS,
  outboxRowValues,
  prepareOutboxRow,
  type OutboxEventInput,
  type PreparedOutboxRow,
} from './enqueue';
export { OutboxError, type OutboxErrorCode } from './outbox.errors';
export { OutboxEventEntity } from './outbox-event.entity';
export {
  DEFAULT_OUTBOX_RETRY_POLICY,
  OutboxStore,
  outboxBackoffMs,
  type ClaimedEvent,
  type ClaimedEvents,
  type OutboxRetryPolicy,
  type OutboxStats,
  type ParkedEvent,
} from './outbox-store';
export { CreateOutboxEvents1763900000000 } from './migrations/1763900000000-CreateOutboxEvents';
export { OutboxPublishedBrin1764000000000 } from './migrations/1764000000000-OutboxPublishedBrin';
import { CreateOutboxEvents1763900000000 } from './migrations/1763900000000-CreateOutboxEvents';
import { OutboxPublishedBrin1764000000000 } from './migrations/1764000000000-OutboxPublishedBrin';
import { OutboxEventEntity } from './outbox-event.entity';

/** Add to the data source of every app that writes or reads the outbox. */
export const OUTBOX_MIGRATIONS = [CreateOutboxEvents1763900000000, OutboxPublishedBrin1764000000000] as const;
export const OUTBOX_ENTITIES = [OutboxEventEntity] as const;
/** The channel the insert trigger notifies (payload: the table's schema). */
export const OUTBOX_NOTIFY_CHANNEL = 'outbox_events';
