/** message-router: delivers outgoing chat messages to WhatsApp / Instagram and reports their status. */
import { tracing } from './instrumentation';
import { pingDatabase, type DataSource } from '@fleet/db';
import { checkKafka, type KafkaClient } from '@fleet/kafka';
import { pingRedis, type RedisClient } from '@fleet/redis';
import { runService } from '@fleet/service-kit';
import { AppModule } from './app.module';
import { DATA_SOURCE, KAFKA_CLIENT, REDIS_CLIENT } from './app.tokens';
import { configSchema } from './config';

void runService(
  {
    configSchema,
    rootModule: () => AppModule,
    readinessChecks: (app) => ({
      kafka: () => checkKafka(app.get<KafkaClient>(KAFKA_CLIENT)),
      postgres: () => pingDatabase(app.get<DataSource>(DATA_SOURCE)),
      redis: () => pingRedis(app.get<RedisClient>(REDIS_CLIENT)),
    }),
  },
  { tracing },
);
