import { type DeliveryChannel } from '@fleet/contracts';

/**
 * The shape of `@fleet/channels`: outbound connectors for the WhatsApp Cloud API and the
 * Instagram Messaging API, and the inbound side of their webhooks. The api and the
 * message-router code against these types.
 */

/** One text message to one recipient on one channel. */
export interface SendTextRequest {
  /** Our message id. WhatsApp echoes it in status webhooks (`biz_opaque_callback_data`). */
  messageId: string;
  /** WhatsApp: E.164 phone number; Instagram: the Instagram-scoped user id (IGSID). */
  to: string;
  text: string;
}

export interface SendResult {
  /** The channel's id for the message: WhatsApp `wamid.…`, Instagram `mid`. */
  channelMessageId: string;
}

/** Sends messages on one channel. Throws {@link ChannelErrorLike} on failure. */
export interface ChannelConnector {
  readonly channel: DeliveryChannel;
  sendText(request: SendTextRequest): Promise<SendResult>;
}

/**
 * Closed set of reasons a channel call fails:
 * - `REJECTED`: the channel refused the request (4xx other than 429): permanent, never retried;
 * - `RATE_LIMITED`: 429; retried, after `retryAfterMs` when the channel sent `Retry-After`;
 * - `UNAVAILABLE`: 5xx or the connection failed; retried;
 * - `TIMEOUT`: no answer within the connector's timeout; retried.
 */
export type ChannelErrorCode = 'REJECTED' | 'RATE_LIMITED' | 'UNAVAILABLE' | 'TIMEOUT';

export interface ChannelErrorLike extends Error {
  readonly code: ChannelErrorCode;
  readonly channel: DeliveryChannel;
  /** false only for `REJECTED`. */
  readonly retriable: boolean;
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** From `Retry-After` (seconds or an HTTP date), when present. */
  readonly retryAfterMs: number | undefined;
}

export interface WhatsAppConnectorOptions {
  /** e.g. `https://graph.facebook.com`; locally the fake channel server's URL. No default. */
  baseUrl: string;
  /** Graph API version path segment, e.g. `v21.0`. */
  apiVersion: string;
  phoneNumberId: string;
  accessToken: string;
  /** @defaultValue 10000 */
  timeoutMs?: number;
}

export interface InstagramConnectorOptions {
  baseUrl: string;
  apiVersion: string;
  accessToken: string;
  /** @defaultValue 10000 */
  timeoutMs?: number;
}

/** A delivery status a channel reported through its webhook. */
export interface ChannelStatusEvent {
  channel: DeliveryChannel;
  /** The channel's id for the message (WhatsApp `statuses[].id`, Instagram `mid`). */
  channelMessageId: string;
  /** Our message id when the channel echoes it (WhatsApp `biz_opaque_callback_data`). */
  messageId: string | undefined;
  status: 'SENT' | 'DELIVERED' | 'READ' | 'FAILED';
  /** For FAILED: the channel's error code and title. */
  reason: string | undefined;
  /** ISO time from the channel's timestamp. */
  occurredAt: string;
}
