import { baseServiceEnv, envDurationMs, envInt, envPort, envUrl } from '@fleet/config';
import { jobPlatformEnv } from '@fleet/jobs';
import { MIN_PART_SIZE, objectStoreEnv } from '@fleet/object-store';
import { kafkaProducerEnv } from '@fleet/service-kit';
import { parseAllowlist } from '@fleet/webhooks';
import { z } from 'zod';

const MiB = 1024 * 1024;

/**
 * Env of the exporter, checked once at boot (exit 1 naming each bad variable): the fleet's Kafka
 * producer env, MinIO's, the job platform's, the signer's and the callbacks'. The database is the
 * api's (`jobs`, `export_requests`, `export_signing_keys`, campaigns and pools, uploads). The
 * README's table lists every variable.
 */
export const configSchema = baseServiceEnv
  .extend(kafkaProducerEnv.shape)
  .extend(objectStoreEnv.shape)
  .extend(jobPlatformEnv.shape)
  .extend({
    HEALTH_PORT: envPort().default(9478),
    DATABASE_URL: envUrl({ protocols: ['postgres', 'postgresql'] }),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase schema name')
      .default('public'),
    REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }),

    EXPORTER_GROUP: z
      .string()
      .regex(/^[a-z][a-z0-9._-]*$/, 'expected a lowercase group id')
      .default('exporter'),
    /** The callback deliveries' consumer group. */
    EXPORTER_CALLBACK_GROUP: z
      .string()
      .regex(/^[a-z][a-z0-9._-]*$/, 'expected a lowercase group id')
      .default('exporter-callbacks'),
    /** Export jobs in flight per replica (the seed's WORKER_CONCURRENCY). */
    WORKER_CONCURRENCY: envInt({ min: 1, max: 32 }).default(4),
    EXPORTER_SESSION_TIMEOUT_MS: envDurationMs()
      .refine((ms) => ms >= 6_000 && ms <= 300_000, 'expected a duration between 6 s and 5 min')
      .default(30_000),
    /** First retry delay of a failed attempt; doubles for each further one (2 s, 4 s, …). */
    EXPORTER_RETRY_INITIAL_BACKOFF_MS: envDurationMs()
      .refine((ms) => ms >= 10 && ms <= 600_000, 'expected a duration between 10 ms and 10 min')
      .default(2_000),
    /**
     * On SIGTERM, running exports get this long to finish; the rest abort their multipart uploads
     * and are released (PENDING, the attempt not counted) for another replica.
     */
    EXPORTER_SHUTDOWN_DRAIN_MS: envDurationMs()
      .refine((ms) => ms <= 20_000, 'expected a duration up to 20 s (the shutdown deadline is 25 s)')
      .default(15_000),
    /** Multipart part size: memory per upload is about two parts. */
    EXPORT_PART_SIZE_BYTES: envInt({ min: MIN_PART_SIZE, max: 512 * MiB }).default(8 * MiB),
    /** Largest map.json / map.svg read (they are read whole; assets are streamed). */
    EXPORT_MAX_MAP_BYTES: envInt({ min: 1024, max: 256 * MiB }).default(16 * MiB),
    /** At most this many items of each content kind of a campaign go into a bundle. */
    EXPORT_MAX_CONTENT_ITEMS: envInt({ min: 0, max: 100_000 }).default(5_000),

    /** Signing: `local` (a PKCS#8 Ed25519 key) or `pkcs11` (a key on an HSM); see libs/signing. */
    EXPORT_SIGNER: z.enum(['local', 'pkcs11']).default('local'),
    EXPORT_SIGNING_KEY_PEM: z.string().min(1).optional(),
    EXPORT_SIGNING_KEY_FILE: z.string().min(1).optional(),
    PKCS11_MODULE: z.string().min(1).optional(),
    PKCS11_TOKEN_LABEL: z.string().min(1).optional(),
    PKCS11_PIN: z.string().min(1).optional(),
    PKCS11_PIN_FILE: z.string().min(1).optional(),
    PKCS11_KEY_LABEL: z.string().min(1).optional(),

    /** HMAC secret of the callback signatures (the seed's WORKER_CALLBACK_SECRET). */
    WORKER_CALLBACK_SECRET: z.string().min(16, 'expected at least 16 characters'),
    /**
     * Callback targets the SSRF rule would refuse but that are allowed: hostnames, host:port or
     * CIDRs, comma-separated (e.g. `127.0.0.1/32` for a local receiver). Empty: none.
     */
    EXPORT_CALLBACK_ALLOWLIST: z.string().default(''),
    /** Deliveries of one callback before its DLQ. */
    EXPORT_CALLBACK_MAX_ATTEMPTS: envInt({ min: 1, max: 50 }).default(6),
    /** First delay between deliveries; doubles each time (1 s, 2 s, 4 s …). */
    EXPORT_CALLBACK_INITIAL_BACKOFF_MS: envDurationMs()
      .refine((ms) => ms >= 10 && ms <= 600_000, 'expected a duration between 10 ms and 10 min')
      .default(1_000),
    EXPORT_CALLBACK_TIMEOUT_MS: envDurationMs()
      .refine((ms) => ms >= 100 && ms <= 60_000, 'expected a duration between 100 ms and 1 min')
      .default(10_000),
  })
  .superRefine((env, ctx) => {
    const issue = (variable: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [variable], message });
    if (env.EXPORT_SIGNER === 'local') {
      if (!env.EXPORT_SIGNING_KEY_PEM && !env.EXPORT_SIGNING_KEY_FILE) {
        issue(
          'EXPORT_SIGNING_KEY_FILE',
          'EXPORT_SIGNER=local needs EXPORT_SIGNING_KEY_FILE or EXPORT_SIGNING_KEY_PEM',
        );
      }
      if (env.EXPORT_SIGNING_KEY_PEM && env.EXPORT_SIGNING_KEY_FILE) {
        issue('EXPORT_SIGNING_KEY_PEM', 'give EXPORT_SIGNING_KEY_PEM or EXPORT_SIGNING_KEY_FILE, not both');
      }
    } else {
      for (const variable of ['PKCS11_MODULE', 'PKCS11_TOKEN_LABEL', 'PKCS11_KEY_LABEL'] as const) {
        if (!env[variable]) issue(variable, `EXPORT_SIGNER=pkcs11 needs ${variable}`);
      }
      if (!env.PKCS11_PIN && !env.PKCS11_PIN_FILE) {
        issue('PKCS11_PIN_FILE', 'EXPORT_SIGNER=pkcs11 needs PKCS11_PIN_FILE or PKCS11_PIN');
      }
    }
    try {
      parseAllowlist(env.EXPORT_CALLBACK_ALLOWLIST);
    } catch (error) {
      issue('EXPORT_CALLBACK_ALLOWLIST', error instanceof Error ? error.message : String(error));
    }
  });
export type Config = z.output<typeof configSchema>;
