/** pool-filler: keeps the content pools (seed 001) full with the local LLM; session summaries. */
import { tracing } from './instrumentation';
import { pingDatabase, type DataSource } from '@fleet/db';
import { checkKafka, type KafkaClient } from '@fleet/kafka';
import { type LlmClient } from '@fleet/llm';
import { pingRedis, type RedisClient } from '@fleet/redis';
import { runService } from '@fleet/service-kit';
import { AppModule } from './app.module';
import { DATA_SOURCE, KAFKA_CLIENT, LLM_CLIENT, REDIS_CLIENT } from './app.tokens';
import { configSchema } from './config';
import { PoolFillerWorker } from './pools/pool-filler.worker';

void runService(
  {
    configSchema,
    rootModule: () => AppModule,
    readinessChecks: (app) => ({
      kafka: () => checkKafka(app.get<KafkaClient>(KAFKA_CLIENT)),
      postgres: () => pingDatabase(app.get<DataSource>(DATA_SOURCE)),
      redis: () => pingRedis(app.get<RedisClient>(REDIS_CLIENT)),
      // GET /v1/models lists LOCAL_LLM_MODEL: a worker whose model is not loaded takes no traffic.
      llm: async () => {
        await app.get<LlmClient>(LLM_CLIENT).readiness();
      },
    }),
    // The seed's GET /health: lastRunTime, lastRunError, mode, uptime.
    status: (app) => async () => ({ ...(await app.get(PoolFillerWorker).status()) }),
  },
  { tracing },
);
