import 'reflect-metadata';
import { type DynamicModule, Global, Module, type Type } from '@nestjs/common';
import { type BaseServiceEnv, type Env, loadConfigOrExit } from '@fleet/config';
import {
  createLogger,
  createMetricsRegistry,
  type HealthServer,
  type Logger,
  type TracingHandle,
} from '@fleet/observability';
import { type Registry } from 'prom-client';
import { type z } from 'zod';
import { BREAKER_CONTROL, breakerControlProviders } from './breaker-control';
import { type ShutdownStep } from './shutdown';
import { METRICS_REGISTRY, SERVICE_CONFIG, SERVICE_LOGGER } from './tokens';

/** What every app has before Nest starts: its checked config, logger, registry and root module. */
export interface ServiceFoundation<C> {
  config: C;
  logger: Logger;
  registry: Registry;
  /** The app's root module under the global config/logger/registry providers. */
  serviceModule: Type<unknown>;
}

/**
 * The part of booting that workers ({@link runService}) and HTTP apps ({@link runHttpService})
 * share: config checked (exit 1 naming each bad variable), JSON logger, metrics registry, the
 * fleet's breaker control when the config has `REDIS_URL`, and the root module composed with the
 * providers every app can inject.
 */
export function serviceFoundation<S extends z.ZodType<BaseServiceEnv>>(
  configSchema: S,
  rootModule: (config: z.output<S>) => Type<unknown> | DynamicModule,
  env: Env,
): ServiceFoundation<z.output<S>> {
  const config = loadConfigOrExit(configSchema, env);
  const logger = createLogger({ serviceName: config.SERVICE_NAME, level: config.LOG_LEVEL });
  const registry = createMetricsRegistry({ serviceName: config.SERVICE_NAME });

  // Every app with Redis takes part in the fleet's breaker control; the others do not.
  const breakerControl = breakerControlProviders(config);

  @Global()
  @Module({
    providers: [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: SERVICE_LOGGER, useValue: logger },
      { provide: METRICS_REGISTRY, useValue: registry },
      ...breakerControl,
    ],
    exports: [
      SERVICE_CONFIG,
      SERVICE_LOGGER,
      METRICS_REGISTRY,
      ...(breakerControl.length > 0 ? [BREAKER_CONTROL] : []),
    ],
  })
  class ServiceKitModule {}

  @Module({ imports: [ServiceKitModule, rootModule(config)] })
  class ServiceModule {}

  return { config, logger, registry, serviceModule: ServiceModule };
}

/**
 * The shutdown order of every app: readiness off (the load balancer stops sending) → the Nest
 * application closes (consumers stop, listeners drain, pools close) → health listener → spans flushed.
 */
export function shutdownSteps(
  health: HealthServer,
  app: { close(): Promise<void> },
  tracing: TracingHandle,
): ShutdownStep[] {
  return [
    { name: 'readiness off', run: async () => health.setReady(false) },
    { name: 'application', run: () => app.close() },
    { name: 'health listener', run: () => health.stop() },
    { name: 'tracing flush', run: () => tracing.shutdown() },
  ];
}
