import { randomUUID } from 'node:crypto';
import { ObjectStore, objectStoreEnv } from './object-store';

/**
 * An object store on the local MinIO (tools/infra's MINIO_* variables) with a bucket of its own,
 * removed with its objects by `drop()`.
 */
export async function createTestBucket(): Promise<{
  store: ObjectStore;
  bucket: string;
  env: Record<string, string>;
  drop(): Promise<void>;
}> {
  const bucket = `test-${randomUUID().slice(0, 12)}`;
  const env = {
    MINIO_ENDPOINT: process.env.MINIO_ENDPOINT ?? '127.0.0.1',
    MINIO_PORT: process.env.MINIO_PORT ?? '9000',
    MINIO_USE_SSL: process.env.MINIO_USE_SSL ?? 'false',
    MINIO_ACCESS_KEY: process.env.MINIO_ACCESS_KEY ?? 'fleet-minio',
    MINIO_SECRET_KEY: process.env.MINIO_SECRET_KEY ?? 'fleet-minio-secret',
    MINIO_BUCKET: bucket,
  };
  const store = new ObjectStore(objectStoreEnv.parse(env));
  await store.ensureBucket();
  return {
    store,
    bucket,
    env,
    async drop() {
      await store.remove(await store.list(''));
      await store.client.removeBucket(bucket);
    },
  };
}
