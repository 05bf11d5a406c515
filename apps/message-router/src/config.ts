import { baseServiceEnv, envDurationMs, envInt, envPort, envUrl } from '@fleet/config';
import { kafkaProducerEnv } from '@fleet/service-kit';
import { z } from 'zod';

const required = (what: string) => z.string().trim().min(1, `expected ${what}`);

/**
 * Env of the message-router, checked once at boot (exit 1 naming each bad variable). The Kafka
 * variables are the fleet's shared `kafkaProducerEnv` (the consumer writes its `.retry` and `.dlq`
 * records with that producer). Channel base URLs and tokens have no defaults on purpose: a
 * router must never talk to a real channel by accident. The README's table lists every variable.
 */
export const configSchema = baseServiceEnv
  .extend(kafkaProducerEnv.shape)
  .extend({
    HEALTH_PORT: envPort().default(9474),
    DATABASE_URL: envUrl({ protocols: ['postgres', 'postgresql'] }),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase schema name')
      .default('public'),
    REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }),

    WHATSAPP_API_BASE_URL: envUrl({ protocols: ['http', 'https'] }),
    WHATSAPP_API_VERSION: z
      .string()
      .regex(/^v\d+\.\d+$/, 'expected a Graph API version such as v21.0')
      .default('v21.0'),
    WHATSAPP_PHONE_NUMBER_ID: z.string().regex(/^\d{1,32}$/, 'expected the numeric phone number id'),
    WHATSAPP_ACCESS_TOKEN: required('an access token'),
    INSTAGRAM_API_BASE_URL: envUrl({ protocols: ['http', 'https'] }),
    INSTAGRAM_API_VERSION: z
      .string()
      .regex(/^v\d+\.\d+$/, 'expected a Graph API version such as v21.0')
      .default('v21.0'),
    INSTAGRAM_ACCESS_TOKEN: required('an access token'),
    /** Per channel call; a call that takes longer counts as TIMEOUT (retried). */
    CHANNEL_TIMEOUT_MS: envDurationMs()
      .refine((ms) => ms >= 100 && ms <= 120_000, 'expected a duration between 100 ms and 2 min')
      .default(10_000),

    ROUTER_CONSUMER_GROUP: z
      .string()
      .regex(/^[a-z][a-z0-9._-]*$/, 'expected a lowercase group id')
      .default('message-router'),
    ROUTER_PARTITIONS_CONCURRENCY: envInt({ min: 1, max: 64 }).default(3),
    /**
     * Messages of different conversations handled at once within one partition (a conversation's
     * messages always one after the other): one slow conversation no longer holds back the others.
     */
    ROUTER_KEY_CONCURRENCY: envInt({ min: 1, max: 64 }).default(4),
    /** The broker evicts a replica it has not heard from for this long (its partitions move on). */
    ROUTER_SESSION_TIMEOUT_MS: envDurationMs()
      .refine((ms) => ms >= 6_000 && ms <= 300_000, 'expected a duration between 6 s and 5 min')
      .default(30_000),
    // 6 deliveries, 1 s doubling: a channel outage of ~30 s is ridden out before the DLQ (the fault
    // campaign, F11: with 3, a 10 s WhatsApp 503 dead-lettered 39 of 9,646 messages).
    ROUTER_MAX_ATTEMPTS: envInt({ min: 1, max: 10 }).default(6),
    ROUTER_RETRY_INITIAL_BACKOFF_MS: envDurationMs().default(1_000),
    ROUTER_DEDUP_TTL_SECONDS: envInt({ min: 60 }).default(86_400),
    /**
     * How long a claimed delivery belongs to the replica that claimed it. Longer than a channel
     * call can take, so a live replica never loses a delivery it is still sending.
     */
    ROUTER_SEND_LEASE_MS: envDurationMs().default(30_000),
    /** Consumer group reading channel confirmations from `chat.message.status.1`. */
    ROUTER_CONFIRMATIONS_GROUP: z
      .string()
      .regex(/^[a-z][a-z0-9._-]*$/, 'expected a lowercase group id')
      .default('message-router-confirmations'),
    /**
     * How long after a call started its channel confirmation (WhatsApp `sent` webhook → api →
     * outbox → `chat.message.status.1` → this router) can still arrive. A replica taking over a
     * delivery whose owner died mid-call waits until then before sending again.
     */
    ROUTER_CONFIRMATION_GRACE_MS: envDurationMs()
      .refine((ms) => ms >= 1_000 && ms <= 120_000, 'expected a duration between 1 s and 2 min')
      .default(15_000),
  })
  .superRefine((config, ctx) => {
    if (config.ROUTER_CONFIRMATIONS_GROUP === config.ROUTER_CONSUMER_GROUP) {
      ctx.addIssue({
        code: 'custom',
        path: ['ROUTER_CONFIRMATIONS_GROUP'],
        message: 'expected a group other than ROUTER_CONSUMER_GROUP',
      });
    }
    if (config.ROUTER_SEND_LEASE_MS < config.CHANNEL_TIMEOUT_MS + 1_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['ROUTER_SEND_LEASE_MS'],
        message: `expected at least CHANNEL_TIMEOUT_MS + 1s (${config.CHANNEL_TIMEOUT_MS + 1_000} ms)`,
      });
    }
  });
export type Config = z.output<typeof configSchema>;
