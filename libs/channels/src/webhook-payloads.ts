import { z } from 'zod';
import { WebhookPayloadError } from './errors';
import { type ChannelStatusEvent } from './types';

// Meta adds fields to webhook payloads without notice: objects are loose (unknown keys pass), and
// events or statuses this lib does not know are skipped rather than refused. Refusing (400) would
// make Meta retry the delivery for days and eventually disable the subscription.

const MAX_REASON_CHARS = 500;

const whatsAppStatusSchema = z.looseObject({
  id: z.string().min(1),
  status: z.string().min(1),
  timestamp: z.string().regex(/^\d{1,12}$/, 'expected unix seconds as a string of digits'),
  recipient_id: z.string().optional(),
  biz_opaque_callback_data: z.string().optional(),
  errors: z
    .array(
      z.looseObject({
        code: z.number().int(),
        title: z.string(),
        message: z.string().optional(),
        error_data: z.looseObject({ details: z.string().optional() }).optional(),
      }),
    )
    .optional(),
});

const whatsAppMessagesValueSchema = z.looseObject({
  messaging_product: z.literal('whatsapp'),
  metadata: z.looseObject({
    display_phone_number: z.string().optional(),
    phone_number_id: z.string().min(1),
  }),
  statuses: z.array(whatsAppStatusSchema).optional(),
});

const whatsAppWebhookSchema = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.looseObject({
      id: z.string(),
      changes: z.array(z.looseObject({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

/** One status of a WhatsApp `messages` webhook change, as Meta sends it. */
export type WhatsAppWebhookStatus = z.input<typeof whatsAppStatusSchema>;

/** A WhatsApp Cloud API status webhook body (the fields this lib reads). */
export interface WhatsAppStatusWebhook {
  object: 'whatsapp_business_account';
  entry: Array<{
    id: string;
    changes: Array<{ field: 'messages'; value: z.input<typeof whatsAppMessagesValueSchema> }>;
  }>;
}

const instagramMessagingSchema = z
  .looseObject({
    sender: z.looseObject({ id: z.string() }).optional(),
    recipient: z.looseObject({ id: z.string() }).optional(),
    timestamp: z.number().int().nonnegative().optional(),
    delivery: z
      .looseObject({ mids: z.array(z.string().min(1)).optional(), watermark: z.number().optional() })
      .optional(),
    read: z.looseObject({ mid: z.string().min(1) }).optional(),
  })
  .superRefine((event, ctx) => {
    // Only events this lib turns into statuses must carry what a status needs.
    if ((event.delivery || event.read) && event.timestamp === undefined) {
      ctx.addIssue({ code: 'custom', path: ['timestamp'], message: 'required on delivery and read events' });
    }
  });

const instagramWebhookSchema = z.looseObject({
  object: z.literal('instagram'),
  entry: z.array(
    z.looseObject({
      id: z.string(),
      time: z.number(),
      messaging: z.array(instagramMessagingSchema).optional(),
    }),
  ),
});

/** One `messaging` event of an Instagram webhook, as Meta sends it (the fields this lib reads). */
export interface InstagramMessagingEvent {
  sender: { id: string };
  recipient: { id: string };
  timestamp: number;
  delivery?: { mids: string[]; watermark: number };
  read?: { mid: string };
}

/** An Instagram Messaging API webhook body (the fields this lib reads). */
export interface InstagramWebhook {
  object: 'instagram';
  entry: Array<{ id: string; time: number; messaging: InstagramMessagingEvent[] }>;
}

const WHATSAPP_STATUSES: Readonly<Record<string, ChannelStatusEvent['status']>> = {
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'READ',
  failed: 'FAILED',
};

/**
 * Reads the delivery statuses out of a WhatsApp Cloud API webhook body
 * (`object: 'whatsapp_business_account'`). Inbound messages, other `field`s and statuses other
 * than sent/delivered/read/failed are skipped. Check the signature first
 * ({@link verifyWebhookSignature}).
 *
 * @throws {@link WebhookPayloadError} `UNEXPECTED_OBJECT` or `INVALID_PAYLOAD`, naming the field.
 */
export function parseWhatsAppWebhook(body: unknown): ChannelStatusEvent[] {
  const payload = parse(whatsAppWebhookSchema, body, 'whatsapp_business_account');
  const events: ChannelStatusEvent[] = [];
  payload.entry.forEach((entry, e) => {
    entry.changes.forEach((change, c) => {
      if (change.field !== 'messages') return;
      const value = parse(whatsAppMessagesValueSchema, change.value, undefined, [
        'entry',
        e,
        'changes',
        c,
        'value',
      ]);
      for (const status of value.statuses ?? []) {
        const kind = WHATSAPP_STATUSES[status.status];
        if (!kind) continue;
        events.push({
          channel: 'whatsapp',
          channelMessageId: status.id,
          messageId: status.biz_opaque_callback_data || undefined,
          status: kind,
          reason: kind === 'FAILED' ? whatsAppFailureReason(status.errors) : undefined,
          occurredAt: new Date(Number(status.timestamp) * 1000).toISOString(),
        });
      }
    });
  });
  return events;
}

/**
 * Reads delivery and read receipts out of an Instagram Messaging API webhook body
 * (`object: 'instagram'`): `delivery` → one DELIVERED per mid, `read` → READ. Messages, echoes,
 * reactions and other events are skipped. Instagram echoes none of our ids, so `messageId` is
 * undefined: match on `channelMessageId`.
 *
 * @throws {@link WebhookPayloadError} `UNEXPECTED_OBJECT` or `INVALID_PAYLOAD`, naming the field.
 */
export function parseInstagramWebhook(body: unknown): ChannelStatusEvent[] {
  const payload = parse(instagramWebhookSchema, body, 'instagram');
  const events: ChannelStatusEvent[] = [];
  for (const entry of payload.entry) {
    for (const event of entry.messaging ?? []) {
      if (event.timestamp === undefined) continue;
      const occurredAt = isoFromMs(event.timestamp);
      const base = { channel: 'instagram' as const, messageId: undefined, reason: undefined, occurredAt };
      for (const mid of event.delivery?.mids ?? []) {
        events.push({ ...base, channelMessageId: mid, status: 'DELIVERED' });
      }
      if (event.read) events.push({ ...base, channelMessageId: event.read.mid, status: 'READ' });
    }
  }
  return events;
}

function whatsAppFailureReason(errors: z.output<typeof whatsAppStatusSchema>['errors']): string {
  const first = errors?.[0];
  if (!first) return 'failed without error details';
  const extra = first.error_data?.details ?? (first.message !== first.title ? first.message : undefined);
  const reason = `${first.code}: ${first.title}${extra ? ` (${extra})` : ''}`;
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason;
}

function isoFromMs(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) {
    throw new WebhookPayloadError('INVALID_PAYLOAD', `timestamp ${ms} is not a valid time`);
  }
  return date.toISOString();
}

function parse<S extends z.ZodType>(
  schema: S,
  body: unknown,
  expectedObject: string | undefined,
  prefix: ReadonlyArray<string | number> = [],
): z.output<S> {
  if (expectedObject !== undefined) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new WebhookPayloadError('INVALID_PAYLOAD', 'webhook body must be a JSON object');
    }
    const object = (body as { object?: unknown }).object;
    if (object !== expectedObject) {
      throw new WebhookPayloadError(
        'UNEXPECTED_OBJECT',
        `webhook object is ${JSON.stringify(object) ?? 'missing'}, expected "${expectedObject}"`,
      );
    }
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((issue) => {
    const path = formatPath([...prefix, ...issue.path]);
    return `${path || '(body)'}: ${issue.message}`;
  });
  const more = result.error.issues.length > 3 ? ` (+${result.error.issues.length - 3} more)` : '';
  throw new WebhookPayloadError('INVALID_PAYLOAD', `invalid webhook payload: ${issues.join('; ')}${more}`, {
    cause: result.error,
  });
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}
