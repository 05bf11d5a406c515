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
import { type DeliveryOutcome, type RouteMetrics } from './route.metrics';

/** How one channel of a message ended in this run. */
type ChannelResult =
  | { kind: 'done' }
  | { kind: 'retry'; reason: string; retryAfterMs: number | undefined }
  | { kind: 'rejected'; reason: string };

/** Tries and pauses for recording an accepted send when the database hiccups. */
const RECORD_BACKOFF_MS = [0, 250, 1_000, 3_000];

/**
 * Channels whose status webhooks name our message (WhatsApp echoes `biz_opaque_callback_data`),
 * so a call whose outcome was never recorded can be confirmed. Instagram's webhooks carry only its
 * own `mid`, which the router never learnt when the call's answer was lost.
 */
export const CONFIRMABLE_CHANNELS: ReadonlySet<DeliveryChannel> = new Set<DeliveryChannel>(['whatsapp']);

export interface RouteMessageOptions {
  connectors: Readonly<Record<DeliveryChannel, ChannelConnector>>;
  store: DeliveryStore;
  cache: DedupCache;
  metrics: RouteMetrics;
  logger: Logger;
  /** Deliveries of the message, the first included (the consumer's `retry.maxAttempts`). */
  maxAttempts: number;
  /**
   * How long after a dead replica's call started a channel confirmation may still arrive; a
   * takeover waits until then before sending again (`ROUTER_CONFIRMATION_GRACE_MS`).
   */
  confirmationGraceMs: number;
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
  /** Aborted at shutdown: takeovers stop waiting for their confirmation and hand the row back. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: RouteMessageOptions) {}

  /** SIGTERM: cut the takeover waits short, so the consumer can finish its in-flight messages. */
  stopWaiting(): void {
    this.stopping.abort();
  }

  async handle(message: OutgoingMessage, context: MessageContext): Promise<void> {
    const { cache, metrics } = this.options;
    const plans = planDeliveries(message);
    // A redrive may reopen a FAILED delivery (the store decides, once per redrive): only SENT counts.
    const known = await cache.finished(
      message.messageId,
      plans.map((plan) => plan.channel),
      context.redrive ? ['SENT'] : undefined,
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
      ...(context.redrive ? { redriveId: context.redrive.id } : {}),
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
    const claim = await store.claim(
      key,
      CONFIRMABLE_CHANNELS.has(channel) ? this.options.confirmationGraceMs : 0,
    );
    if (claim.kind === 'finished') {
      metrics.deliveries.inc({ channel, outcome: 'duplicate' });
      await this.options.cache.remember(message.messageId, channel, claim.state);
      return { kind: 'done' };
    }
    if (claim.kind === 'busy') return this.busy(key, claim.leaseLeftMs);
    if (claim.kind === 'claimed' && claim.reopened) {
      logger.info(
        { ...log, redriveId: key.redriveId, redriveCount: context.redrive?.count },
        'an operator redrove this FAILED delivery; calling the channel again',
      );
    }
    if (claim.kind === 'confirmed') {
      return this.recordConfirmed(message, key, claim.channelMessageId, claim.takenOver);
    }
    if (claim.kind === 'takenOver') {
      const settled = await this.afterTakeover(message, key, claim.waitMs, lastAttempt);
      if (settled) return settled;
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

  /**
   * The previous owner died mid-call: the channel may or may not have the message. Waits for the
   * rest of the confirmation grace period (inside the handler: the runtime keeps heartbeating, and
   * no attempt is spent), then re-reads the row. Confirmed → SENT without a call. Otherwise
   * undefined: send again, since losing a message is worse than a duplicate.
   */
  private async afterTakeover(
    message: OutgoingMessage,
    key: DeliveryKey,
    waitMs: number,
    lastAttempt: boolean,
  ): Promise<ChannelResult | undefined> {
    const { store, metrics, logger, cache } = this.options;
    const log = { messageId: key.messageId, conversationId: key.conversationId, channel: key.channel };
    if (waitMs > 0) {
      logger.info(
        { ...log, waitMs },
        'took over a delivery whose replica died mid-call; waiting for a channel confirmation before sending again',
      );
      const until = Date.now() + waitMs;
      // The last attempt waits out even a shutdown: handed back, it would go to the DLQ.
      if (!(await pause(waitMs, lastAttempt ? undefined : this.stopping.signal))) {
        await store.abandon(key);
        logger.info(log, 'shutting down while waiting for a confirmation; delivery handed back');
        return {
          kind: 'retry',
          reason: 'TAKEOVER_INTERRUPTED: shut down while waiting for a channel confirmation',
          retryAfterMs: Math.max(0, until - Date.now()),
        };
      }
    }
    const resumed = await store.resume(key);
    switch (resumed.kind) {
      case 'finished':
        metrics.deliveries.inc({ channel: key.channel, outcome: 'duplicate' });
        await cache.remember(key.messageId, key.channel, resumed.state);
        return { kind: 'done' };
      case 'busy':
        return this.busy(key, resumed.leaseLeftMs);
      case 'confirmed':
        return this.recordConfirmed(message, key, resumed.channelMessageId, true);
      case 'resend':
        metrics.resumedUnknown.inc({ channel: key.channel, outcome: 'resent' });
        logger.warn(
          { ...log, attempts: resumed.attempts, confirmable: CONFIRMABLE_CHANNELS.has(key.channel) },
          'a replica died mid-call on this delivery and no channel confirmation came; sending again (possible duplicate)',
        );
        return undefined;
    }
  }

  /** A channel webhook proved the channel has the message: SENT, no call. */
  private async recordConfirmed(
    message: OutgoingMessage,
    key: DeliveryKey,
    channelMessageId: string,
    takenOver: boolean,
  ): Promise<ChannelResult> {
    if (takenOver) this.options.metrics.resumedUnknown.inc({ channel: key.channel, outcome: 'confirmed' });
    this.options.logger.info(
      {
        messageId: key.messageId,
        conversationId: key.conversationId,
        channel: key.channel,
        channelMessageId,
        takenOver,
      },
      'a channel webhook confirmed a call whose outcome was not recorded; SENT without calling again',
    );
    await this.recordSent(message, key, channelMessageId, 'confirmed');
    return { kind: 'done' };
  }

  private busy(key: DeliveryKey, leaseLeftMs: number): ChannelResult {
    this.options.metrics.deliveries.inc({ channel: key.channel, outcome: 'busy' });
    this.options.logger.info(
      { messageId: key.messageId, conversationId: key.conversationId, channel: key.channel, leaseLeftMs },
      'another replica is sending this; retry later',
    );
    // Past the lease the sender is dead or done: the retry then finds SENT or takes over.
    return {
      kind: 'retry',
      reason: `IN_FLIGHT: another replica is sending (lease ${leaseLeftMs} ms)`,
      retryAfterMs: leaseLeftMs + 100,
    };
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
    const log = {
      messageId: key.messageId,
      conversationId: key.conversationId,
      channel: key.channel,
      attempt,
      code: failure.code,
    };
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
    metricOutcome: 'sent' | 'confirmed' = 'sent',
  ): Promise<void> {
    const id = unrecordedKey(key);
    let lastError: unknown;
    for (const pauseMs of RECORD_BACKOFF_MS) {
      if (pauseMs > 0) await sleep(pauseMs);
      try {
        await this.finish(message, key, { state: 'SENT', channelMessageId }, metricOutcome);
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
    metricOutcome: Extract<DeliveryOutcome, 'sent' | 'confirmed' | 'rejected' | 'invalid' | 'exhausted'>,
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
      ...(key.redriveId ? { redriveId: key.redriveId } : {}),
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
    // A confirmed delivery made no call, so losing this race duplicates nothing at the channel.
    if (outcome.state === 'SENT' && metricOutcome === 'sent') {
      metrics.duplicateSends.inc({ channel: key.channel });
      logger.error(
        { messageId: key.messageId, channel: key.channel, channelMessageId: outcome.channelMessageId },
        'the channel accepted a delivery that was already final: duplicate send',
      );
    }
  }
}

const unrecordedKey = (key: DeliveryKey) => `${key.messageId}:${key.channel}`;

/** Sleeps `ms`; false when `signal` aborted first. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch (error) {
    if (signal?.aborted) return false;
    throw error;
  }
}
