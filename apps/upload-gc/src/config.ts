import { baseServiceEnv, envInt, envUrl } from '@fleet/config';
import { objectStoreEnv } from '@fleet/object-store';
import { z } from 'zod';

/**
 * Env of upload-gc, checked once at start (exit 1 naming each bad variable). A run-to-completion
 * command has no health listener, so `HEALTH_PORT`/`HEALTH_HOST` of `baseServiceEnv` are left out;
 * `SERVICE_NAME` defaults to the app's name (it is also the Pushgateway job). The MinIO variables
 * are the fleet's shared `objectStoreEnv`. The README's table lists each variable with its meaning.
 */
export const configSchema = baseServiceEnv
  .pick({ LOG_LEVEL: true, OTEL_EXPORTER_OTLP_ENDPOINT: true, OTEL_ENABLED: true })
  .extend({ SERVICE_NAME: baseServiceEnv.shape.SERVICE_NAME.default('upload-gc') })
  .extend(objectStoreEnv.shape)
  .extend({
    DATABASE_URL: envUrl({ protocols: ['postgres', 'postgresql'] }),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase schema name')
      .default('public'),
    /** An upload is abandoned once both its creation and its last stored chunk are this old. */
    GC_RETENTION_HOURS: envInt({ min: 1, max: 24 * 365 }).default(24),
    /** Uploads per transaction: their rows stay locked while their objects are deleted. */
    GC_BATCH_SIZE: envInt({ min: 1, max: 1_000 }).default(100),
    /** Prometheus Pushgateway base URL; metrics are pushed there at exit when set. */
    GC_PUSHGATEWAY_URL: envUrl({ protocols: ['http', 'https'] }).optional(),
  });
export type Config = z.output<typeof configSchema>;
