/**
 * `node dist/apps/pool-filler/admin.js schedule-check`: enqueues one pool check (`check_all_pools`,
 * priority 1; deduplicated — a check already waiting is reused) and exits. The hourly Kubernetes
 * CronJob runs it; so can cron or an operator. Needs DATABASE_URL (and DATABASE_SCHEMA).
 */
import { connectDataSource, sqlOf } from '@fleet/db';
import { createLogger } from '@fleet/observability';
import { PoolStore, SEED_PRIORITY } from '@fleet/pools';

const USAGE = 'usage: admin.js schedule-check';

async function main(args: string[]): Promise<number> {
  if (args[0] !== 'schedule-check' || args.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('admin: DATABASE_URL is required\n');
    return 1;
  }
  const logger = createLogger({ serviceName: 'pool-filler-admin', level: 'warn' });
  const dataSource = await connectDataSource({
    url,
    schema: process.env.DATABASE_SCHEMA ?? 'public',
    applicationName: 'pool-filler-admin',
    logger,
    poolSize: 1,
  });
  try {
    const jobId = await new PoolStore().enqueueJob(sqlOf(dataSource.manager), {
      kind: 'check_all_pools',
      params: null,
      priority: SEED_PRIORITY.check,
      ownerId: 'system:schedule',
    });
    process.stdout.write(`${JSON.stringify({ scheduled: 'check_all_pools', jobId })}\n`);
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

void main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`admin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
