import { z } from 'zod';

/**
 * Where the fleet's breaker control lives in Redis. One prefix is one fleet: every replica and the
 * operator's api must use the same one.
 */
export interface BreakerControlKeys {
  /** Hash: breaker name → JSON {@link BreakerOverrideRecord}, the overrides every replica applies. */
  overrides: string;
  /** Pub/sub channel: one JSON {@link BreakerCommand} per operator action, so replicas act at once. */
  control: string;
  /** Sorted set: replica ids, scored by when their report expires (an index; the key's TTL rules). */
  replicas: string;
  /** String with a TTL: one replica's JSON {@link BreakerReplicaReport}. */
  replica(id: string): string;
}

/** The default prefix; {@link breakerControlPrefix} derives a namespaced one. */
export const DEFAULT_BREAKER_CONTROL_PREFIX = 'fleet:breakers';

/**
 * The prefix of a fleet whose topics live under `namespace` (`KAFKA_TOPIC_NAMESPACE`): several
 * isolated fleets on one cluster (tests, a developer's fleet beside a shared one) usually share one
 * Redis too, and forcing a breaker in one must not reach the others.
 */
export function breakerControlPrefix(namespace?: string): string {
  return namespace ? `${namespace}:${DEFAULT_BREAKER_CONTROL_PREFIX}` : DEFAULT_BREAKER_CONTROL_PREFIX;
}

/**
 * The keys under `prefix`. On Redis Cluster pass a `{hash-tag}` prefix: the fleet view reads every
 * replica's report with one `MGET`, which needs them in one slot.
 */
export function breakerControlKeys(prefix = DEFAULT_BREAKER_CONTROL_PREFIX): BreakerControlKeys {
  return {
    overrides: `${prefix}:overrides`,
    control: `${prefix}:control`,
    replicas: `${prefix}:replicas`,
    replica: (id) => `${prefix}:replica:${id}`,
  };
}

const modeSchema = z.enum(['open', 'closed']);
const stateSchema = z.enum(['closed', 'open', 'half-open']);

/** One desired override, as the operator's api wrote it. */
export const breakerOverrideRecordSchema = z.object({
  /** Unique per operator action: replicas report the last one they applied. */
  id: z.string().min(1),
  mode: modeSchema,
  reason: z.string(),
  /** Who asked (the token's subject). */
  actor: z.string(),
  /** When, ISO 8601. */
  at: z.string(),
});
export type BreakerOverrideRecord = z.infer<typeof breakerOverrideRecordSchema>;

/** Announced on the control channel after the hash changed (`open`, `close`) or for a `reset`. */
export const breakerCommandSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  action: z.enum(['open', 'close', 'reset']),
});
export type BreakerCommand = z.infer<typeof breakerCommandSchema>;

/** One breaker as its replica sees it. */
export const breakerReportSchema = z.object({
  name: z.string(),
  state: stateSchema,
  /** The override in force; `actor` and `id` when it came from the fleet control. */
  override: z
    .object({
      mode: modeSchema,
      reason: z.string(),
      since: z.string(),
      actor: z.string().optional(),
      id: z.string().optional(),
    })
    .nullable(),
  /** The rolling window's calls (`BreakerCounts` of `@fleet/circuit-breaker`). */
  counts: z.object({
    windowMs: z.number(),
    calls: z.number(),
    successes: z.number(),
    failures: z.number(),
    timeouts: z.number(),
    rejections: z.number(),
  }),
  /** The last operator action ({@link BreakerCommand} id) this replica applied to the breaker. */
  lastCommandId: z.string().nullable(),
});
export type BreakerReport = z.infer<typeof breakerReportSchema>;

/** What one replica publishes about its breakers, every heartbeat and on every change. */
export const breakerReplicaReportSchema = z.object({
  /** `SERVICE_NAME`. */
  app: z.string(),
  /** Unique among live replicas: `hostname:pid` unless configured. */
  replica: z.string(),
  hostname: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  updatedAt: z.string(),
  breakers: z.array(breakerReportSchema),
});
export type BreakerReplicaReport = z.infer<typeof breakerReplicaReportSchema>;

/** Parses a JSON value read from Redis; `undefined` when it is not one (a foreign or older writer). */
export function parseRecord<S extends z.ZodType>(schema: S, raw: string): z.output<S> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
