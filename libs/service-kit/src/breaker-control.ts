import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { type Logger } from '@fleet/observability';
import { BreakerControl, breakerControlKeys, breakerControlPrefix } from '@fleet/redis';
import { type Registry } from 'prom-client';
import { METRICS_REGISTRY, SERVICE_LOGGER } from './tokens';

/** What the breaker control reads from an app's validated config (any app's, typed or not). */
interface BreakerControlConfig {
  SERVICE_NAME: string;
  REDIS_URL?: unknown;
  KAFKA_TOPIC_NAMESPACE?: unknown;
}

/** The running control of this replica's breakers (only in apps whose config has `REDIS_URL`). */
export const BREAKER_CONTROL = Symbol('BREAKER_CONTROL');

/**
 * Starts the control in Nest's init phase, after every provider (and so every breaker built at
 * boot) exists and before any consumer starts in the bootstrap phase: a replica starting while a
 * breaker is forced open never sends through it. Stopped in the last phase, so the replica stays
 * in the fleet view while it drains.
 */
@Injectable()
class BreakerControlLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(BREAKER_CONTROL) private readonly control: BreakerControl) {}

  onModuleInit(): Promise<void> {
    return this.control.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.control.stop();
  }
}

/**
 * The providers that make this replica take part in the fleet's breaker control: none when the
 * app has no `REDIS_URL` (its breakers then work on their own and appear in no fleet view). The
 * keys follow `KAFKA_TOPIC_NAMESPACE`: an isolated fleet's overrides stay in that fleet.
 */
export function breakerControlProviders(config: BreakerControlConfig): Provider[] {
  const url = config.REDIS_URL;
  if (typeof url !== 'string' || url === '') return [];
  const namespace =
    typeof config.KAFKA_TOPIC_NAMESPACE === 'string' ? config.KAFKA_TOPIC_NAMESPACE : undefined;
  return [
    {
      provide: BREAKER_CONTROL,
      inject: [SERVICE_LOGGER, METRICS_REGISTRY],
      useFactory: (logger: Logger, registry: Registry) =>
        new BreakerControl({
          url,
          keys: breakerControlKeys(breakerControlPrefix(namespace)),
          app: config.SERVICE_NAME,
          registry,
          logger,
        }),
    },
    BreakerControlLifecycle,
  ];
}

/** The breaker control keys of an app's config (for the operator's side, `BreakerFleet`). */
export function breakerControlKeysOf(config: { KAFKA_TOPIC_NAMESPACE?: string }) {
  return breakerControlKeys(breakerControlPrefix(config.KAFKA_TOPIC_NAMESPACE));
}
