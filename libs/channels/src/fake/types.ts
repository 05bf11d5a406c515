import { type DeliveryChannel } from '@fleet/contracts';

/** One request the fake channel server received on a channel endpoint. */
export interface FakeChannelCall {
  /** 1, 2, 3… in arrival order since the last reset. */
  seq: number;
  channel: DeliveryChannel;
  /** Request path, e.g. `/v21.0/100000000000001/messages`. */
  path: string;
  /** Recipient read from the body (WhatsApp `to`, Instagram `recipient.id`), if present. */
  to: string | undefined;
  /** Text read from the body (WhatsApp `text.body`, Instagram `message.text`), if present. */
  text: string | undefined;
  /** Our message id: WhatsApp `biz_opaque_callback_data`, when present. */
  messageId: string | undefined;
  /** The id the fake assigned, when it accepted the message. */
  channelMessageId: string | undefined;
  /** HTTP status answered; undefined while a delayed answer is still pending. */
  status: number | undefined;
  /** The request body exactly as parsed from JSON (undefined when it was not JSON). */
  body: unknown;
  /** Whether a script rule answered the call. */
  scripted: boolean;
  /** ISO time the request arrived. */
  receivedAt: string;
}

/** The status webhooks the fake sends: WhatsApp statuses, or Instagram `delivery` / `read`. */
export type FakeCallbackEvent = 'sent' | 'delivered' | 'read' | 'failed';

/** One status webhook the fake sent (or is sending) to a configured webhook URL. */
export interface FakeCallbackDelivery {
  channel: DeliveryChannel;
  channelMessageId: string;
  event: FakeCallbackEvent;
  url: string;
  /** POSTs made so far. */
  attempts: number;
  /** `pending` while due or being retried; `gave-up` after the last attempt failed. */
  outcome: 'pending' | 'delivered' | 'gave-up' | 'cancelled';
  /** HTTP status of the last attempt, when the receiver answered. */
  lastStatus: number | undefined;
  /** Why the last attempt failed (status or connection error). */
  lastError: string | undefined;
}
