/** exporter: builds engine-ready export bundles (seed 002) and delivers their callbacks. */
import { tracing } from './instrumentation';
import { pingDatabase, type DataSource } from '@fleet/db';
import { checkKafka, type KafkaClient } from '@fleet/kafka';
import { type ObjectStore } from '@fleet/object-store';
import { pingRedis, type RedisClient } from '@fleet/redis';
import { runService } from '@fleet/service-kit';
import { AppModule } from './app.module';
import { DATA_SOURCE, KAFKA_CLIENT, OBJECT_STORE, REDIS_CLIENT } from './app.tokens';
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
    }),
  },
  { tracing },
);
