import 'reflect-metadata';
import { type DynamicModule, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type BaseServiceEnv, type Env } from '@fleet/config';
import { HealthServer, type Logger, type ReadinessCheck, type TracingHandle } from '@fleet/observability';
import { type z } from 'zod';
import { NestPinoLogger } from './nest-logger';
import { serviceFoundation, shutdownSteps } from './foundation';
import { installGracefulShutdown } from './shutdown';

export interface ServiceDefinition<S extends z.ZodType<BaseServiceEnv>> {
  /** The app's env schema: `baseServiceEnv.extend({...})`. Checked once, before anything starts. */
  configSchema: S;
  /** The app's root module; it can inject {@link SERVICE_CONFIG}, {@link SERVICE_LOGGER}, {@link METRICS_REGISTRY}. */
  rootModule: (config: z.output<S>) => Type<unknown> | DynamicModule;
  /** Dependency checks behind `/health/ready` (Kafka, Postgres, Redis…), built from the running app. */
  readinessChecks?: (app: INestApplicationContext, config: z.output<S>) => Record<string, ReadinessCheck>;
  /** The app's status document on `GET /health` (see `HealthServerOptions.status`). @defaultValue none */
  status?: (app: INestApplicationContext, config: z.output<S>) => () => Promise<Record<string, unknown>>;
  /** @defaultValue 25000 (below Kubernetes' 30 s grace period) */
  shutdownTimeoutMs?: number;
}

export interface RunServiceOptions {
  /** Started by the app's `instrumentation.ts`, the first import of its `main.ts`. */
  tracing: TracingHandle;
  /** @defaultValue process.env */
  env?: Env;
}

export interface RunningService {
  app: INestApplicationContext;
  logger: Logger;
  shutdown: (reason: string) => Promise<void>;
}

/**
 * Starts a worker the same way for every app: config checked (exit 1 naming each bad variable),
 * JSON logs, metrics registry, the Nest application context, the health listener (`/health/live`,
 * `/health/ready`, `/metrics`), and a graceful shutdown on SIGTERM: readiness off → Nest closes
 * (consumers stop fetching, finish in-flight work, commit) → listener closes → spans flushed → exit 0.
 */
export async function runService<S extends z.ZodType<BaseServiceEnv>>(
  definition: ServiceDefinition<S>,
  { tracing, env = process.env }: RunServiceOptions,
): Promise<RunningService> {
  const { config, logger, registry, serviceModule } = serviceFoundation(
    definition.configSchema,
    definition.rootModule,
    env,
  );

  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(serviceModule, {
      logger: new NestPinoLogger(logger),
      abortOnError: false,
    });
  } catch (err) {
    logger.fatal({ err }, 'service failed to start');
    await tracing.shutdown().catch(() => undefined);
    process.exit(1);
  }

  const health = new HealthServer({
    host: config.HEALTH_HOST,
    port: config.HEALTH_PORT,
    registry,
    logger,
    readinessChecks: definition.readinessChecks?.(app, config) ?? {},
    ...(definition.status ? { status: definition.status(app, config) } : {}),
  });
  try {
    await health.start();
  } catch (err) {
    logger.fatal({ err }, 'health listener failed to start');
    await app.close().catch(() => undefined);
    process.exit(1);
  }

  const shutdown = installGracefulShutdown({
    logger,
    timeoutMs: definition.shutdownTimeoutMs,
    steps: shutdownSteps(health, app, tracing),
  });
  logger.info({ health: `http://${config.HEALTH_HOST}:${config.HEALTH_PORT}` }, 'service started');
  return { app, logger, shutdown };
}
