import { setTimeout as sleep } from 'node:timers/promises';
import { type ChannelConnector } from '@fleet/channels';
import { type DeliveryChannel, type MessageStatusUpdate, type OutgoingMessage } from '@fleet/contracts';
import { type MessageContext, NonRetriableError, RetriableError } from '@fleet/kafka';
import { type Logger } from '@fleet/observability';
import { callChannel } from './channel-call';
import { describeFailure, type ChannelFailure } from './channel-error';
import { type DedupCache } from './dedup.cache';
import { type DeliveryKey, type DeliveryStore, type FinalOutcome } from './delivery.store';
import { planDeliveries, type ChannelPlan } from './plan';
import { type RouteMetrics } from './route.metrics';

/** How one channel of a message ended in this run. */
type ChannelResult =
  | { kind: 'done' }
  | { kind: 'retry'; reason: string; retryAfterMs: number | undefined }
  | { kind: 'rejected'; reason: string };

/** Tries and pauses for recording an accepted send when the database hiccups. */
const RECORD_BACKOFF_MS = [0, 250, 1_000, 3_000];

export interface RouteMessageOptions {
  connectors: Readonly<Record<DeliveryChannel, ChannelConnector>>;
  store: DeliveryStore;
  cache: DedupCache;
  metrics: RouteMetrics;
  logger: Logger;
  /** Deliveries of the message, the first included (the consumer's `retry.maxAttempts`). */
  maxAttempts: number;
}

/**
 * Delivers one outgoing message: plan per channel (limits, recipients) → skip what is already
 * final (Redis, then the database) → claim → call the channel → record the outcome with its status
 * in one transaction. Each channel of an `all` message is tracked on its own, so a retry never
 * calls a channel that already took the message. Then it tells the consumer what to do:
 * - resolves: every channel is final (SENT or FAILED) → commit;
 * - throws {@link RetriableError} (with the channel's `Retry-After`): some channel failed
 *   retriably → retry, or the DLQ after the last attempt (its FAILED status is already written);
 * - throws {@link NonRetriableError} `CHANNEL_REJECTED`: a channel refused the message → DLQ now.
 */
export class RouteMessage {
  /**
   * Sends the channel accepted whose record did not commit yet (the database went away right
   * after the call). The next attempt in this process records them without calling again.
   */
  private readonly unrecorded = new Map<string, string>();

  constructor(private readonly options: RouteMessageOptions) {}

  async handle(message: OutgoingMessage, context: MessageContext): Promise<void> {
    const { cache, metrics } = this.options;
    const plans = planDeliveries(message);
    const known = await cache.finished(
      message.messageId,
      plans.map((plan) => plan.channel),
    );
    const retries: Array<{ channel: DeliveryChannel; reason: string; retryAfterMs: number | undefined }> = [];
    const rejections: Array<{ channel: DeliveryChannel; reason: string }> = [];
    for (const plan of plans) {
      if (known.has(plan.channel)) {
        metrics.deliveries.inc({ channel: plan.channel, outcome: 'duplicate' });
        continue;
      }
      const result = await this.deliver(message, plan, context);
      if (result.kind === 'retry') retries.push({ channel: plan.channel, ...result });
      if (result.kind === 'rejected') rejections.push({ channel: plan.channel, reason: result.reason });
    }
    if (retries.length > 0) {
      const retryAfterMs = Math.max(0, ...retries.map((r) => r.retryAfterMs ?? 0));
      throw new RetriableError(
        retries.map((r) => `${r.channel}: ${r.reason}`).join('; '),
        'CHANNEL_UNAVAILABLE',
        retryAfterMs > 0 ? { retryAfterMs } : undefined,
      );
    }
    if (rejections.length > 0) {
      throw new NonRetriableError(
        rejections.map((r) => `${r.channel}: ${r.reason}`).join('; '),
        'CHANNEL_REJECTED',
      );
    }
  }

  private async deliver(
    message: OutgoingMessage,
    plan: ChannelPlan,
    context: MessageContext,
  ): Promise<ChannelResult> {
    const { store, metrics, logger, connectors } = this.options;
    const { channel } = plan;
    const key: DeliveryKey = {
      messageId: message.messageId,
      channel,
      conversationId: message.conversationId,
    };
    const log = { messageId: message.messageId, conversationId: message.conversationId, channel };

    if (plan.kind === 'invalid') {
      await this.finish(message, key, { state: 'FAILED', reason: plan.reason }, 'invalid');
      logger.warn({ ...log, reason: plan.reason }, 'message cannot go to this channel; FAILED, not sent');
      return { kind: 'done' };
    }

    const pending = this.unrecorded.get(unrecordedKey(key));
    if (pending !== undefined) {
      await this.recordSent(message, key, pending);
      return { kind: 'done' };
    }

    const lastAttempt = context.attempt >= this.options.maxAttempts;
    const claim = await store.claim(key);
    if (claim.kind === 'finished') {
      metrics.deliveries.inc({ channel, outcome: 'duplicate' });
      await this.options.cache.remember(message.messageId, channel, claim.state);
      return { kind: 'done' };
    }
    if (claim.kind === 'busy') {
      metrics.deliveries.inc({ channel, outcome: 'busy' });
      logger.info({ ...log, leaseLeftMs: claim.leaseLeftMs }, 'another replica is sending this; retry later');
      // Past the lease the sender is dead or done: the retry then finds SENT or takes over.
      return {
        kind: 'retry',
        reason: `IN_FLIGHT: another replica is sending (lease ${claim.leaseLeftMs} ms)`,
        retryAfterMs: claim.leaseLeftMs + 100,
      };
    }
    if (claim.resumedUnknown) {
      metrics.resumedUnknown.inc({ channel });
      logger.warn(
        { ...log, attempts: claim.attempts },
        'a replica died mid-call on this delivery; its outcome is unknown, sending again (possible duplicate)',
      );
    }

    const result = await callChannel(
      connectors[channel],
      { messageId: message.messageId, to: plan.to, text: message.text },
      metrics,
    );
    if (result.ok) {
      await this.recordSent(message, key, result.channelMessageId);
      return { kind: 'done' };
    }
    return this.failed(message, key, result.failure, lastAttempt, context.attempt);
  }

  private async failed(
    message: OutgoingMessage,
    key: DeliveryKey,
    failure: ChannelFailure,
    lastAttempt: boolean,
    attempt: number,
  ): Promise<ChannelResult> {
    const { store, logger } = this.options;
    const reason = describeFailure(failure);
    const log = { messageId: key.messageId, channel: key.channel, attempt, code: failure.code };
    if (!failure.retriable) {
      await this.finish(message, key, { state: 'FAILED', reason: `CHANNEL_REJECTED: ${reason}` }, 'rejected');
      logger.warn({ ...log, reason }, 'the channel refused the message; FAILED, to the DLQ');
      return { kind: 'rejected', reason };
    }
    if (lastAttempt) {
      await this.finish(
        message,
        key,
        { state: 'FAILED', reason: `RETRIES_EXHAUSTED: ${reason} (after ${attempt} attempts)` },
        'exhausted',
      );
      logger.warn({ ...log, reason }, 'last attempt failed; FAILED, to the DLQ');
      return { kind: 'retry', reason, retryAfterMs: undefined };
    }
    await store.release(key, reason);
    this.options.metrics.deliveries.inc({ channel: key.channel, outcome: 'retry' });
    logger.info({ ...log, reason, retryAfterMs: failure.retryAfterMs }, 'channel call failed; will retry');
    return { kind: 'retry', reason, retryAfterMs: failure.retryAfterMs };
  }

  /**
   * The channel has the message: this must reach the database, or a retry would send it again.
   * A few quick tries first; if the database stays away, the id waits in memory for the retry.
   */
  private async recordSent(
    message: OutgoingMessage,
    key: DeliveryKey,
    channelMessageId: string,
  ): Promise<void> {
    const id = unrecordedKey(key);
    let lastError: unknown;
    for (const pauseMs of RECORD_BACKOFF_MS) {
      if (pauseMs > 0) await sleep(pauseMs);
      try {
        await this.finish(message, key, { state: 'SENT', channelMessageId }, 'sent');
        this.unrecorded.delete(id);
        return;
      } catch (error) {
        lastError = error;
        this.options.logger.warn(
          { err: error, messageId: key.messageId, channel: key.channel },
          'recording an accepted send failed; trying again',
        );
      }
    }
    this.unrecorded.set(id, channelMessageId);
    throw lastError;
  }

  private async finish(
    message: OutgoingMessage,
    key: DeliveryKey,
    outcome: FinalOutcome,
    metricOutcome: 'sent' | 'rejected' | 'invalid' | 'exhausted',
  ): Promise<void> {
    const { store, cache, metrics, logger } = this.options;
    const status: MessageStatusUpdate = {
      messageId: message.messageId,
      conversationId: message.conversationId,
      channel: key.channel,
      status: outcome.state,
      ...(outcome.state === 'SENT'
        ? { channelMessageId: outcome.channelMessageId }
        : { reason: outcome.reason.slice(0, 2_000) }),
      occurredAt: new Date().toISOString(),
      source: 'router',
    };
    const recorded = await store.finish(key, outcome, status);
    if (recorded) {
      metrics.deliveries.inc({ channel: key.channel, outcome: metricOutcome });
      await cache.remember(key.messageId, key.channel, outcome.state);
      return;
    }
    // Someone else finished it first. If we had just sent it, the channel now has it twice.
    metrics.deliveries.inc({ channel: key.channel, outcome: 'duplicate' });
    if (outcome.state === 'SENT') {
      metrics.duplicateSends.inc({ channel: key.channel });
      logger.error(
        { messageId: key.messageId, channel: key.channel, channelMessageId: outcome.channelMessageId },
        'the channel accepted a delivery that was already final: duplicate send',
      );
    }
  }
}

const unrecordedKey = (key: DeliveryKey) => `${key.messageId}:${key.channel}`;
