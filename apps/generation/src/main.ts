/** generation: runs the LLM-driven generation jobs (map generation, story enhancement) with live progress. */
import { tracing } from './instrumentation';
import { pingDatabase, type DataSource } from '@fleet/db';
import { checkKafka, type KafkaClient } from '@fleet/kafka';
import { type LlmClient } from '@fleet/llm';
import { type ObjectStore } from '@fleet/object-store';
import { pingRedis, type RedisClient } from '@fleet/redis';
import { runService } from '@fleet/service-kit';
import { AppModule } from './app.module';
import { DATA_SOURCE, KAFKA_CLIENT, LLM_CLIENT, OBJECT_STORE, REDIS_CLIENT } from './app.tokens';
import { configSchema } from './config';

void runService(
  {
    configSchema,
    rootModule: () => AppModule,
    readinessChecks: (app) => ({
      kafka: () => checkKafka(app.get<KafkaClient>(KAFKA_CLIENT)),
      postgres: () => pingDatabase(app.get<DataSource>(DATA_SOURCE)),
      redis: () => pingRedis(app.get<RedisClient>(REDIS_CLIENT)),
      minio: () => app.get<ObjectStore>(OBJECT_STORE).ping(),
      // GET /v1/models lists LOCAL_LLM_MODEL: a worker whose model is not loaded takes no traffic.
      llm: async () => {
        await app.get<LlmClient>(LLM_CLIENT).readiness();
      },
    }),
  },
  { tracing },
);
