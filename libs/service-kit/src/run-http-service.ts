import 'reflect-metadata';
import { type INestApplication, type NestApplicationOptions, type Type } from '@nestjs/common';
import { type BaseServiceEnv } from '@fleet/config';
import { HealthServer, type Logger } from '@fleet/observability';
import { type Registry } from 'prom-client';
import { type z } from 'zod';
import { NestPinoLogger } from './nest-logger';
import { type RunServiceOptions, type ServiceDefinition } from './run-service';
import { serviceFoundation, shutdownSteps } from './foundation';
import { installGracefulShutdown } from './shutdown';

/** What {@link HttpServiceDefinition.configure} gets besides the app. */
export interface HttpServiceContext<C> {
  config: C;
  logger: Logger;
  registry: Registry;
}

/** A {@link ServiceDefinition} whose Nest application also serves an HTTP API. */
export interface HttpServiceDefinition<S extends z.ZodType<BaseServiceEnv>> extends ServiceDefinition<S> {
  /**
   * Builds the Nest HTTP application from the composed root module: the app picks its adapter
   * (`NestFactory.create(module, new FastifyAdapter(), options)`), so this lib stays adapter-free.
   * Pass `options` through: they carry the JSON logger and `abortOnError: false`.
   */
  createApplication: (
    rootModule: Type<unknown>,
    options: NestApplicationOptions,
  ) => Promise<INestApplication>;
  /** Plugins, filters, hooks, docs: everything that must be in place before `listen`. */
  configure?: (app: INestApplication, context: HttpServiceContext<z.output<S>>) => Promise<void> | void;
  /** Interface and port of the API listener (the health listener stays on `HEALTH_PORT`). */
  listen: (config: z.output<S>) => { host: string; port: number };
}

export interface RunningHttpService {
  app: INestApplication;
  logger: Logger;
  shutdown: (reason: string) => Promise<void>;
}

/**
 * {@link runService} for apps that serve HTTP: the same config check (exit 1 naming each bad
 * variable), JSON logs, metrics registry, health listener on `HEALTH_PORT` and shutdown sequence,
 * with a Nest HTTP application listening on its own port. On SIGTERM: readiness off → `app.close()`,
 * which runs the modules' destroy and before-shutdown hooks (consumers stop), closes the listener
 * (no new connections, in-flight requests finish, idle keep-alive connections close), then the
 * shutdown hooks (pools close) → health listener closed → spans flushed → exit 0.
 */
export async function runHttpService<S extends z.ZodType<BaseServiceEnv>>(
  definition: HttpServiceDefinition<S>,
  { tracing, env = process.env }: RunServiceOptions,
): Promise<RunningHttpService> {
  const { config, logger, registry, serviceModule } = serviceFoundation(
    definition.configSchema,
    definition.rootModule,
    env,
  );

  const fail = async (err: unknown, what: string, app?: INestApplication): Promise<never> => {
    logger.fatal({ err }, what);
    await app?.close().catch(() => undefined);
    await tracing.shutdown().catch(() => undefined);
    process.exit(1);
  };

  let app: INestApplication;
  try {
    app = await definition.createApplication(serviceModule, {
      logger: new NestPinoLogger(logger),
      abortOnError: false,
    });
    await definition.configure?.(app, { config, logger, registry });
  } catch (err) {
    return fail(err, 'service failed to start');
  }

  const health = new HealthServer({
    host: config.HEALTH_HOST,
    port: config.HEALTH_PORT,
    registry,
    logger,
    readinessChecks: definition.readinessChecks?.(app, config) ?? {},
  });
  try {
    await health.start();
  } catch (err) {
    return fail(err, 'health listener failed to start', app);
  }

  const { host, port } = definition.listen(config);
  try {
    await app.listen(port, host);
  } catch (err) {
    await health.stop().catch(() => undefined);
    return fail(err, `api listener failed to start on ${host}:${port}`, app);
  }

  const shutdown = installGracefulShutdown({
    logger,
    timeoutMs: definition.shutdownTimeoutMs,
    steps: shutdownSteps(health, app, tracing),
  });
  logger.info(
    { api: `http://${host}:${port}`, health: `http://${config.HEALTH_HOST}:${config.HEALTH_PORT}` },
    'service started',
  );
  return { app, logger, shutdown };
}
