import { type MessageStatusUpdate } from '@fleet/contracts';
import { type Logger } from '@fleet/observability';
import { type DedupCache } from './dedup.cache';
import { type DeliveryStore } from './delivery.store';
import { type ConfirmationOutcome, type RouteMetrics } from './route.metrics';

/** Webhook statuses that prove the channel accepted the message. */
const ACCEPTED: ReadonlySet<MessageStatusUpdate['status']> = new Set(['SENT', 'DELIVERED', 'READ']);

/**
 * Reads one `chat.message.status.1` record and, when it is a channel webhook saying the channel
 * has the message (`source: 'webhook'`, SENT / DELIVERED / READ, with the channel's id), marks the
 * matching delivery confirmed if it is not final yet. This is how a replica that takes over a
 * delivery from one that died mid-call learns that the dead replica's call went through.
 *
 * Ignored: the router's own statuses (it wrote them from a final row), FAILED webhooks (Meta sends
 * one after accepting a message it could not deliver; resending would not help), and events with
 * no channel id. Rows already SENT or FAILED, and messages unknown here, are left alone; a
 * delivery the dedup cache knows to be final is not looked up at all (most webhooks arrive after
 * the router recorded SENT: a Redis read instead of a database write).
 * Idempotent: the first confirmation of a row wins, replays change nothing.
 */
export class ConfirmDelivery {
  constructor(
    private readonly store: DeliveryStore,
    private readonly cache: DedupCache,
    private readonly metrics: RouteMetrics,
    private readonly logger: Logger,
  ) {}

  async handle(update: MessageStatusUpdate): Promise<ConfirmationOutcome> {
    const [outcome] = await this.handleBatch([update]);
    return outcome!;
  }

  /** {@link ConfirmDelivery.handle} for each update, with one Redis round trip for all of them. */
  async handleBatch(updates: readonly MessageStatusUpdate[]): Promise<ConfirmationOutcome[]> {
    const candidates = updates.filter(isConfirmation);
    // A key in the cache is only ever written after the database committed the final state.
    const final = await this.cache.finishedMany(candidates);
    const known = new Set(candidates.filter((_, i) => final[i]));
    const outcomes: ConfirmationOutcome[] = [];
    for (const update of updates) {
      const outcome = !isConfirmation(update)
        ? 'ignored'
        : known.has(update)
          ? 'final'
          : await this.apply(update);
      this.metrics.confirmations.inc({ channel: update.channel, outcome });
      outcomes.push(outcome);
    }
    return outcomes;
  }

  private async apply(update: MessageStatusUpdate): Promise<ConfirmationOutcome> {
    const recorded = await this.store.confirm(
      { messageId: update.messageId, channel: update.channel },
      update.channelMessageId!,
    );
    if (!recorded) return 'final';
    this.logger.info(
      {
        messageId: update.messageId,
        channel: update.channel,
        channelMessageId: update.channelMessageId,
        status: update.status,
      },
      'a channel webhook confirmed a delivery whose outcome is not recorded yet',
    );
    return 'recorded';
  }
}

/** A channel webhook saying the channel has the message, naming it by the channel's id. */
function isConfirmation(update: MessageStatusUpdate): boolean {
  return update.source === 'webhook' && ACCEPTED.has(update.status) && Boolean(update.channelMessageId);
}
