/**
 * Requests and answers of `/v1/admin/breakers`: zod only (no Nest, no Redis), so fleetctl and the
 * ops console can import them and parse what the api answers with the api's own definitions.
 */
import { z } from 'zod';

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? `required: ${what}` : `expected ${what}`;

/** A breaker's name as the apps build it (`kafka-producer`, `llm-local-primary` …). */
export const breakerNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    'expected 1–128 of A-Z a-z 0-9 . _ : -, starting alphanumeric',
  )
  .meta({ description: 'The breaker, e.g. kafka-producer: every replica with a breaker of this name.' });

export const breakerParamsSchema = z.object({ name: breakerNameSchema });

const reason = z
  .string({ error: required('a string: why, 1–500 characters') })
  .trim()
  .min(1, 'required: why, 1–500 characters')
  .max(500, 'at most 500 characters')
  .meta({ description: 'Why (1–500 characters): kept in the override, the logs and the audit log.' });

/** `POST …/open` and `POST …/close`. */
export const forceBreakerBodySchema = z.object({ reason }).strict();
export type ForceBreakerBody = z.output<typeof forceBreakerBodySchema>;

/** `POST …/reset`: the reason is optional (a body may be left out). */
export const resetBreakerBodySchema = z.object({ reason: reason.optional() }).strict();
export type ResetBreakerBody = z.output<typeof resetBreakerBodySchema>;

export const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;
export const BREAKER_ACTIONS = ['open', 'close', 'reset'] as const;
export type BreakerAction = (typeof BREAKER_ACTIONS)[number];

/** An override as the operator set it (the desired state every replica applies). */
export const breakerOverrideViewSchema = z.object({
  id: z.string().meta({ description: 'The action that set it; replicas report the last one they applied.' }),
  mode: z.enum(['open', 'closed']),
  reason: z.string(),
  actor: z.string().meta({ description: "The operator (the token's subject)." }),
  at: z.string().meta({ description: 'When it was set, ISO 8601.' }),
});
export type BreakerOverrideView = z.infer<typeof breakerOverrideViewSchema>;

export const breakerCountsSchema = z
  .object({
    windowMs: z.number(),
    calls: z.number(),
    successes: z.number(),
    failures: z.number().meta({ description: 'Timeouts included.' }),
    timeouts: z.number(),
    rejections: z.number().meta({ description: 'Calls failed fast while open.' }),
  })
  .meta({
    description: "Calls over the breaker's rolling window (windowMs), as of the replica's last report.",
  });

/** One replica's breaker of the name. */
export const replicaBreakerViewSchema = z.object({
  app: z.string(),
  replica: z.string().meta({ description: 'hostname:pid (a pod name in Kubernetes).' }),
  state: z.enum(BREAKER_STATES),
  override: z
    .object({
      mode: z.enum(['open', 'closed']),
      reason: z.string(),
      since: z.string(),
      actor: z.string().optional(),
      id: z.string().optional(),
    })
    .nullable()
    .meta({ description: 'The override this replica applies; null when the breaker judges by itself.' }),
  counts: breakerCountsSchema,
  lastCommandId: z.string().nullable(),
  updatedAt: z
    .string()
    .meta({ description: "The replica's last report (every second, and on every change)." }),
});
export type ReplicaBreakerView = z.infer<typeof replicaBreakerViewSchema>;

export const breakerViewSchema = z.object({
  name: breakerNameSchema,
  override: breakerOverrideViewSchema.nullable().meta({ description: 'The desired override; null: none.' }),
  states: z
    .object({ closed: z.number().int(), 'half-open': z.number().int(), open: z.number().int() })
    .meta({ description: 'Replicas per state.' }),
  replicas: z.array(replicaBreakerViewSchema),
});
export type BreakerView = z.infer<typeof breakerViewSchema>;

/** `GET /v1/admin/breakers`. */
export const breakersViewSchema = z.object({
  liveReplicas: z.number().int().meta({ description: 'Replicas reporting (of every app with Redis).' }),
  breakers: z.array(breakerViewSchema),
});
export type BreakersView = z.infer<typeof breakersViewSchema>;

const replicaRefSchema = z.object({ app: z.string(), replica: z.string(), state: z.enum(BREAKER_STATES) });

/** `POST /v1/admin/breakers/{name}/open|close|reset`. */
export const breakerActionResultSchema = z.object({
  breaker: breakerNameSchema,
  action: z.enum(BREAKER_ACTIONS),
  commandId: z.string(),
  override: breakerOverrideViewSchema
    .nullable()
    .meta({ description: 'The override now in force; null after a reset.' }),
  released: breakerOverrideViewSchema
    .nullable()
    .optional()
    .meta({ description: 'reset only: the override it removed, if there was one.' }),
  applied: z.array(replicaRefSchema).meta({ description: 'Replicas that reported the action applied.' }),
  pending: z
    .array(replicaRefSchema)
    .meta({ description: 'Live replicas that had not reported it when the wait (at most 2 s) ended.' }),
  complete: z.boolean().meta({ description: 'Every live replica with the breaker applied it.' }),
  waitedMs: z.number().int(),
});
export type BreakerActionResult = z.infer<typeof breakerActionResultSchema>;
