import { DLQ_REASONS } from '@fleet/contracts';
import { DEAD_LETTER_STATUSES, MAX_RATE_PER_SECOND } from '@fleet/ops';
import { z } from 'zod';

const uuid = z.uuid();
const isoDate = z.iso.datetime({ offset: true });

/** Query of `GET /v1/admin/dlq` (and the filter of a redrive or discard, as a body). */
export const dlqFilterFields = {
  topic: z.string().min(1).max(249).meta({ description: 'Original topic, e.g. chat.message.outgoing.1.' }),
  group: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'The consumer group that dead-lettered it.' }),
  reason: z.enum(DLQ_REASONS).optional(),
  errorCode: z.string().min(1).max(200).optional(),
  key: z.string().max(1_000).optional(),
  eventId: z.string().min(1).max(200).optional(),
  from: isoDate.optional().meta({ description: 'Failed at or after (ISO 8601).' }),
  to: isoDate.optional().meta({ description: 'Failed at or before (ISO 8601).' }),
};

const fromBeforeTo = (f: { from?: string; to?: string }) => !f.from || !f.to || f.from <= f.to;

export const dlqFilterSchema = z
  .object(dlqFilterFields)
  .strict()
  .refine(fromBeforeTo, { message: '`from` must not be after `to`', path: ['from'] });

export const listDlqQuerySchema = z
  .object({
    ...dlqFilterFields,
    status: z.enum(DEAD_LETTER_STATUSES).optional().meta({ description: 'Default: every status.' }),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict()
  .refine(fromBeforeTo, { message: '`from` must not be after `to`', path: ['from'] });

const selection = {
  ids: z
    .array(uuid)
    .min(1)
    .max(10_000)
    .optional()
    .meta({ description: 'Dead-letter ids (of GET /v1/admin/dlq).' }),
  filter: dlqFilterSchema.optional(),
};
const oneSelection = (b: { ids?: unknown; filter?: unknown }) =>
  (b.ids === undefined) !== (b.filter === undefined);

export const redriveBodySchema = z
  .object({
    ...selection,
    dryRun: z.boolean().default(false),
    ratePerSecond: z.number().int().min(1).max(MAX_RATE_PER_SECOND).optional(),
  })
  .strict()
  .refine(oneSelection, { message: 'give either `ids` or `filter`' });

export const discardBodySchema = z
  .object({ ...selection, reason: z.string().trim().min(1).max(500) })
  .strict()
  .refine(oneSelection, { message: 'give either `ids` or `filter`' });

export const deadLetterSummarySchema = z.object({
  id: uuid,
  topic: z.string(),
  dlqTopic: z.string(),
  dlqPartition: z.number().int(),
  dlqOffset: z.string(),
  consumerGroup: z.string(),
  reason: z.string(),
  errorCode: z.string(),
  errorMessage: z.string(),
  attempts: z.number().int(),
  key: z.string().nullable(),
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  failedAt: isoDate,
  redriveCount: z.number().int(),
  status: z.enum(DEAD_LETTER_STATUSES),
  statusReason: z.string().nullable(),
  statusAt: isoDate,
  redriveId: uuid.nullable(),
  traceId: z.string().nullable(),
});
export type DeadLetterSummary = z.infer<typeof deadLetterSummarySchema>;

export const deadLetterViewSchema = deadLetterSummarySchema.extend({
  headers: z.record(z.string(), z.string()),
  payload: z.unknown().meta({ description: 'The value parsed as JSON; null when it is not JSON.' }),
  valueText: z
    .string()
    .nullable()
    .meta({ description: 'The value as UTF-8 text (null for an empty value).' }),
  originalPartition: z.number().int(),
  originalOffset: z.string(),
  firstFailureAt: isoDate.nullable(),
  jaegerUrl: z.string().nullable(),
});
export type DeadLetterView = z.infer<typeof deadLetterViewSchema>;

export const dlqPageSchema = z.object({
  items: z.array(deadLetterSummarySchema),
  nextCursor: z.string().nullable(),
  total: z.number().int(),
});

export const dlqTopicsSchema = z.object({
  topics: z.array(
    z.object({
      topic: z.string(),
      dlqTopic: z.string(),
      counts: z.record(z.enum(DEAD_LETTER_STATUSES), z.number().int()),
      groups: z.array(z.string()),
    }),
  ),
});

export const redrivePreviewSchema = z.object({
  dryRun: z.literal(true),
  matched: z.number().int(),
  byGroup: z.record(z.string(), z.number().int()),
  sample: z.array(deadLetterSummarySchema),
});

export const redriveSchema = z.object({
  id: uuid,
  actor: z.string(),
  status: z.enum(['RUNNING', 'COMPLETED', 'FAILED']),
  matched: z.number().int(),
  redriven: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  ratePerSecond: z.number().int(),
  error: z.string().nullable(),
  startedAt: isoDate,
  finishedAt: isoDate.nullable(),
});
export type RedriveView = z.infer<typeof redriveSchema>;

export const discardResultSchema = z.object({ discarded: z.number().int() });

export const eventLifeSchema = z.object({
  eventId: z.string(),
  topic: z.string(),
  key: z.string().nullable(),
  eventType: z.string().nullable(),
  traceId: z.string().nullable(),
  jaegerUrl: z.string().nullable(),
  outbox: z
    .object({
      createdAt: isoDate,
      publishedAt: isoDate.nullable(),
      attempts: z.number().int(),
      lastError: z.string().nullable(),
      parkedAt: isoDate.nullable(),
      aggregateType: z.string(),
      aggregateKey: z.string(),
    })
    .nullable(),
  fallback: z.object({ queuedAt: z.string() }).nullable(),
  kafka: z
    .object({
      topic: z.string(),
      partition: z.number().int(),
      offset: z.string(),
      writtenAt: isoDate.nullable(),
    })
    .nullable(),
  groups: z.array(
    z.object({
      group: z.string(),
      outcome: z.enum([
        'handled',
        'retrying',
        'dead-lettered',
        'redriving',
        'parked',
        'discarded',
        'pending',
      ]),
      attempts: z.number().int(),
      redrives: z.number().int(),
    }),
  ),
  deadLetters: z.array(
    deadLetterSummarySchema
      .extend({ originalPartition: z.number().int(), originalOffset: z.string() })
      .passthrough(),
  ),
  business: z.object({ type: z.string(), id: z.string(), row: z.unknown() }).nullable(),
  steps: z.array(
    z.object({ at: isoDate.nullable(), kind: z.string(), group: z.string().optional(), detail: z.string() }),
  ),
});

export const auditQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    action: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'One action (dlq.redrive) or a prefix ending in a dot (breaker.).' }),
  })
  .strict();

export const auditPageSchema = z.object({
  items: z.array(
    z.object({
      id: uuid,
      at: isoDate,
      actor: z.string(),
      action: z.string(),
      target: z.string().nullable(),
      filter: z.unknown(),
      count: z.number().int(),
      dryRun: z.boolean(),
      reason: z.string().nullable(),
      detail: z.unknown(),
    }),
  ),
});
