/** file-merge: composes an upload's chunks into its final object in MinIO, verifies it, marks it COMPLETED. */
import { tracing } from './instrumentation';
import { pingDatabase, type DataSource } from '@fleet/db';
import { checkKafka, type KafkaClient } from '@fleet/kafka';
import { type ObjectStore } from '@fleet/object-store';
import { runService } from '@fleet/service-kit';
import { AppModule } from './app.module';
import { DATA_SOURCE, KAFKA_CLIENT, OBJECT_STORE } from './app.tokens';
import { configSchema } from './config';

void runService(
  {
    configSchema,
    rootModule: () => AppModule,
    readinessChecks: (app) => ({
      kafka: () => checkKafka(app.get<KafkaClient>(KAFKA_CLIENT)),
      postgres: () => pingDatabase(app.get<DataSource>(DATA_SOURCE)),
      minio: () => app.get<ObjectStore>(OBJECT_STORE).ping(),
    }),
  },
  { tracing },
);
