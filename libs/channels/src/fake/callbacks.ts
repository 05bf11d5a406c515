import { setTimeout as sleep } from 'node:timers/promises';
import { type DeliveryChannel } from '@fleet/contracts';
import { request } from 'undici';
import { signWebhookBody, WEBHOOK_SIGNATURE_HEADER } from '../webhook-signature';
import { type InstagramWebhook, type WhatsAppStatusWebhook } from '../webhook-payloads';
import { type FakeCallbackDelivery, type FakeCallbackEvent } from './types';

/** When each status webhook is due, in ms after the message was accepted. */
export interface CallbackDelaysMs {
  /** WhatsApp `sent`. @defaultValue 50 */
  sent: number;
  /** WhatsApp `delivered` / Instagram `delivery` (and WhatsApp `failed`). @defaultValue 100 */
  delivered: number;
  /** WhatsApp `read` / Instagram `read`. @defaultValue 150 */
  read: number;
}

/** How the fake retries a webhook delivery the receiver did not take, as Meta does. */
export interface CallbackRetryOptions {
  /** POSTs per webhook, first one included. @defaultValue 4 */
  attempts: number;
  /** Wait before the second POST; doubles each time. @defaultValue 200 */
  initialBackoffMs: number;
  /** Longest wait between POSTs. @defaultValue 2000 */
  maxBackoffMs: number;
  /** Per-POST timeout. @defaultValue 5000 */
  requestTimeoutMs: number;
}

export const DEFAULT_CALLBACK_DELAYS_MS: CallbackDelaysMs = { sent: 50, delivered: 100, read: 150 };
export const DEFAULT_CALLBACK_RETRY: CallbackRetryOptions = {
  attempts: 4,
  initialBackoffMs: 200,
  maxBackoffMs: 2_000,
  requestTimeoutMs: 5_000,
};

/** An accepted message whose status webhooks are to be sent. */
export interface AcceptedMessage {
  channel: DeliveryChannel;
  channelMessageId: string;
  /** WhatsApp: the wa_id (digits of `to`); Instagram: the IGSID. */
  recipient: string;
  messageId: string | undefined;
  outcome: 'normal' | 'failed';
}

/** Who the fake is, as its webhooks say it. */
export interface CallbackIdentity {
  whatsAppBusinessAccountId: string;
  phoneNumberId: string;
  displayPhoneNumber: string;
  instagramAccountId: string;
}

export interface CallbackDispatcherOptions {
  identity: CallbackIdentity;
  webhookUrls: Partial<Record<DeliveryChannel, string>>;
  appSecrets: Record<DeliveryChannel, string>;
  delaysMs: CallbackDelaysMs;
  retry: CallbackRetryOptions;
  sendRead: boolean;
  /**
   * Statuses falling due within this window go to one URL in one POST, up to
   * {@link MAX_BATCH} (Meta aggregates webhook notifications into batches of up to 1,000 updates,
   * and says receivers must take any batch). 0 sends each status on its own.
   */
  batchWindowMs: number;
  onDelivery?: (delivery: FakeCallbackDelivery) => void;
}

/** Meta's largest webhook batch. */
export const MAX_BATCH = 1_000;

/** A status waiting in a batch. */
interface Pending {
  message: AcceptedMessage;
  event: FakeCallbackEvent;
  delivery: FakeCallbackDelivery;
  done: (error?: unknown) => void;
}

interface Batch {
  url: string;
  channel: DeliveryChannel;
  signal: AbortSignal;
  items: Pending[];
  timer: NodeJS.Timeout | undefined;
}

interface Step {
  event: FakeCallbackEvent;
  dueMs: number;
}

/**
 * Sends the status webhooks of accepted messages: one chain per message, each webhook due at its
 * delay after acceptance but never before the previous one was delivered or given up (Meta does
 * not promise order; a fake that keeps it makes tests deterministic). Never throws: a receiver that
 * is down or answers non-2xx is retried with backoff, then given up and recorded.
 */
export class CallbackDispatcher {
  private controller = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly batches = new Map<string, Batch>();
  readonly deliveries: FakeCallbackDelivery[] = [];

  constructor(private readonly options: CallbackDispatcherOptions) {}

  setWebhookUrl(channel: DeliveryChannel, url: string | undefined): void {
    this.options.webhookUrls[channel] = url;
  }

  /** Schedules the webhooks of `message`; a no-op when the channel has no webhook URL. */
  accepted(message: AcceptedMessage): void {
    const url = this.options.webhookUrls[message.channel];
    if (!url) return;
    const signal = this.controller.signal;
    const chain = this.runChain(message, url, signal).catch(() => undefined);
    this.running.add(chain);
    void chain.finally(() => this.running.delete(chain));
  }

  /** Resolves once every scheduled webhook was delivered, given up or cancelled. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Cancels every pending webhook (reset, stop); deliveries already recorded stay. */
  cancelAll(): void {
    this.controller.abort();
    this.controller = new AbortController();
  }

  clearRecords(): void {
    this.deliveries.length = 0;
  }

  private steps(message: AcceptedMessage): Step[] {
    const { delaysMs, sendRead } = this.options;
    if (message.channel === 'whatsapp') {
      if (message.outcome === 'failed') {
        return [
          { event: 'sent', dueMs: delaysMs.sent },
          { event: 'failed', dueMs: delaysMs.delivered },
        ];
      }
      const steps: Step[] = [
        { event: 'sent', dueMs: delaysMs.sent },
        { event: 'delivered', dueMs: delaysMs.delivered },
      ];
      return sendRead ? [...steps, { event: 'read', dueMs: delaysMs.read }] : steps;
    }
    // Instagram has no failure webhook: a message it accepted and could not deliver just stays unread.
    if (message.outcome === 'failed') return [];
    const steps: Step[] = [{ event: 'delivered', dueMs: delaysMs.delivered }];
    return sendRead ? [...steps, { event: 'read', dueMs: delaysMs.read }] : steps;
  }

  private async runChain(message: AcceptedMessage, url: string, signal: AbortSignal): Promise<void> {
    const acceptedAt = Date.now();
    for (const step of this.steps(message)) {
      const delivery: FakeCallbackDelivery = {
        channel: message.channel,
        channelMessageId: message.channelMessageId,
        event: step.event,
        url,
        attempts: 0,
        outcome: 'pending',
        lastStatus: undefined,
        lastError: undefined,
      };
      this.deliveries.push(delivery);
      const waitMs = acceptedAt + step.dueMs - Date.now();
      try {
        if (waitMs > 0) await sleep(waitMs, undefined, { signal });
        await this.deliver(message, step.event, url, delivery, signal);
      } catch {
        delivery.outcome = 'cancelled';
        this.report(delivery);
        return;
      }
    }
  }

  /** Sends one status: alone, or in the batch of its URL; throws only when cancelled. */
  private deliver(
    message: AcceptedMessage,
    event: FakeCallbackEvent,
    url: string,
    delivery: FakeCallbackDelivery,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.options.batchWindowMs <= 0) {
      return this.post(url, message.channel, [{ message, event, delivery, done: () => undefined }], signal);
    }
    return new Promise<void>((resolve, reject) => {
      const key = `${message.channel} ${url}`;
      let batch = this.batches.get(key);
      if (!batch || batch.signal !== signal) {
        if (batch) this.flush(key, batch);
        batch = { url, channel: message.channel, signal, items: [], timer: undefined };
        this.batches.set(key, batch);
        const open = batch;
        open.timer = setTimeout(() => this.flush(key, open), this.options.batchWindowMs);
      }
      batch.items.push({
        message,
        event,
        delivery,
        done: (error) => (error === undefined ? resolve() : reject(error as Error)),
      });
      if (batch.items.length >= MAX_BATCH) this.flush(key, batch);
    });
  }

  private flush(key: string, batch: Batch): void {
    clearTimeout(batch.timer);
    if (this.batches.get(key) === batch) this.batches.delete(key);
    const finished = this.post(batch.url, batch.channel, batch.items, batch.signal).then(
      () => batch.items.forEach((item) => item.done()),
      (error: unknown) => batch.items.forEach((item) => item.done(error ?? new Error('cancelled'))),
    );
    this.running.add(finished);
    void finished.finally(() => this.running.delete(finished));
  }

  /**
   * POSTs statuses as one webhook (the same bytes and signature on every retry, as Meta's retries
   * do), retrying with backoff; throws only when cancelled.
   */
  private async post(
    url: string,
    channel: DeliveryChannel,
    items: readonly Pending[],
    signal: AbortSignal,
  ): Promise<void> {
    const { retry } = this.options;
    const raw = JSON.stringify(this.combined(channel, items));
    const signature = signWebhookBody(raw, this.options.appSecrets[channel]);
    const update = (change: Partial<FakeCallbackDelivery>) => {
      for (const item of items) Object.assign(item.delivery, change);
    };
    for (let attempt = 1; attempt <= retry.attempts; attempt += 1) {
      signal.throwIfAborted();
      update({ attempts: attempt });
      try {
        const response = await request(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [WEBHOOK_SIGNATURE_HEADER]: signature,
            'user-agent': 'facebookexternalua',
          },
          body: raw,
          signal: AbortSignal.any([signal, AbortSignal.timeout(retry.requestTimeoutMs)]),
        });
        // Drain the body so the connection can be reused; its content does not matter.
        await response.body.dump().catch(() => undefined);
        update({ lastStatus: response.statusCode });
        if (response.statusCode >= 200 && response.statusCode < 300) {
          update({ outcome: 'delivered', lastError: undefined });
          for (const item of items) this.report(item.delivery);
          return;
        }
        update({ lastError: `HTTP ${response.statusCode}` });
      } catch (error) {
        signal.throwIfAborted();
        update({ lastStatus: undefined, lastError: describe(error) });
      }
      if (attempt < retry.attempts) {
        const backoffMs = Math.min(retry.maxBackoffMs, retry.initialBackoffMs * 2 ** (attempt - 1));
        await sleep(backoffMs, undefined, { signal });
      }
    }
    update({ outcome: 'gave-up' });
    for (const item of items) this.report(item.delivery);
  }

  /** One webhook body for statuses of one channel: their entries' updates, in order. */
  private combined(
    channel: DeliveryChannel,
    items: readonly Pending[],
  ): WhatsAppStatusWebhook | InstagramWebhook {
    const [first, ...rest] = items.map((item) => this.payload(item.message, item.event));
    if (rest.length === 0) return first!;
    if (channel === 'instagram') {
      const body = first as InstagramWebhook;
      for (const more of rest as InstagramWebhook[])
        body.entry[0]!.messaging.push(...more.entry[0]!.messaging);
      return body;
    }
    const body = first as WhatsAppStatusWebhook;
    const value = body.entry[0]!.changes[0]!.value;
    const statuses = (value.statuses ??= []);
    for (const more of rest as WhatsAppStatusWebhook[]) {
      statuses.push(...(more.entry[0]!.changes[0]!.value.statuses ?? []));
    }
    return body;
  }

  private report(delivery: FakeCallbackDelivery): void {
    try {
      this.options.onDelivery?.({ ...delivery });
    } catch {
      // An observer's bug must not stop the webhooks of other messages.
    }
  }

  private payload(
    message: AcceptedMessage,
    event: FakeCallbackEvent,
  ): WhatsAppStatusWebhook | InstagramWebhook {
    const { identity } = this.options;
    const nowMs = Date.now();
    if (message.channel === 'instagram') {
      return {
        object: 'instagram',
        entry: [
          {
            id: identity.instagramAccountId,
            time: nowMs,
            messaging: [
              {
                // Receipts come from the user who got the message, to the business account.
                sender: { id: message.recipient },
                recipient: { id: identity.instagramAccountId },
                timestamp: nowMs,
                ...(event === 'read'
                  ? { read: { mid: message.channelMessageId } }
                  : { delivery: { mids: [message.channelMessageId], watermark: nowMs } }),
              },
            ],
          },
        ],
      };
    }
    const timestamp = String(Math.floor(nowMs / 1000));
    const billing =
      event === 'sent' || event === 'delivered'
        ? {
            conversation: {
              id: message.channelMessageId.slice(6, 38),
              origin: { type: 'service' },
              ...(event === 'sent'
                ? { expiration_timestamp: String(Math.floor(nowMs / 1000) + 86_400) }
                : {}),
            },
            pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
          }
        : {};
    return {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: identity.whatsAppBusinessAccountId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: {
                  display_phone_number: identity.displayPhoneNumber,
                  phone_number_id: identity.phoneNumberId,
                },
                statuses: [
                  {
                    id: message.channelMessageId,
                    status: event,
                    timestamp,
                    recipient_id: message.recipient,
                    ...(message.messageId === undefined
                      ? {}
                      : { biz_opaque_callback_data: message.messageId }),
                    ...billing,
                    ...(event === 'failed'
                      ? {
                          errors: [
                            {
                              code: 131026,
                              title: 'Message undeliverable',
                              message: 'Message undeliverable',
                              error_data: { details: 'Message Undeliverable.' },
                            },
                          ],
                        }
                      : {}),
                  },
                ],
              },
            },
          ],
        },
      ],
    };
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code ? `${error.message} (${code})` : error.message;
}
