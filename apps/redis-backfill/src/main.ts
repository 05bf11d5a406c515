/** redis-backfill: drains the Redis fallback list into Kafka while the Kafka breaker allows calls. */
import { tracing } from './instrumentation';
import { checkKafka, type KafkaClient } from '@fleet/kafka';
import { pingRedis, type RedisClient } from '@fleet/redis';
import { runService } from '@fleet/service-kit';
import { AppModule } from './app.module';
import { KAFKA_CLIENT, REDIS_CLIENT } from './app.tokens';
import { configSchema } from './config';

void runService(
  {
    configSchema,
    rootModule: () => AppModule,
    readinessChecks: (app) => ({
      kafka: () => checkKafka(app.get<KafkaClient>(KAFKA_CLIENT)),
      redis: () => pingRedis(app.get<RedisClient>(REDIS_CLIENT)),
    }),
  },
  { tracing },
);
