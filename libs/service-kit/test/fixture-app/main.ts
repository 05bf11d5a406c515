/**
 * The smallest app built the way every fleet app is: instrumentation first, then runService with an
 * env schema, a Nest module and readiness checks. The service-kit tests run it from source and bundled.
 */
import { tracing } from './instrumentation';
import { get } from 'node:http';
import { Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { baseServiceEnv, envUrl } from '@fleet/config';
import { runService, SERVICE_CONFIG } from '../../src';
import { type z } from 'zod';

const configSchema = baseServiceEnv.extend({ PING_URL: envUrl({ protocols: ['http'] }) });
type Config = z.output<typeof configSchema>;

@Injectable()
class Pinger implements OnApplicationBootstrap {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: Config) {}

  /**
   * One ping at start, outside any request: calls made while serving /health/* are untraced on
   * purpose (the http instrumentation suppresses tracing under an ignored incoming request).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.ping().catch(() => undefined);
  }

  /** An outgoing http.get: its client span shows that the SDK patched http before it loaded. */
  ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      get(this.config.PING_URL, (res) => {
        res.resume();
        if ((res.statusCode ?? 500) < 500) resolve();
        else reject(new Error(`ping answered ${res.statusCode}`));
      }).on('error', reject);
    });
  }
}

/** Injected by type, without @Inject: only works when decorator metadata survived the build. */
@Injectable()
class Readiness {
  constructor(readonly pinger: Pinger) {}
}

@Module({ providers: [Pinger, Readiness] })
class FixtureModule {}

void runService(
  {
    configSchema,
    rootModule: () => FixtureModule,
    readinessChecks: (app) => ({ ping: () => app.get(Readiness).pinger.ping() }),
  },
  { tracing },
);
