/**
 * `node dist/apps/outbox-poller/migrate.js up|status`: the outbox table's migrations, run before the
 * poller starts (tools/fleet up; a Helm pre-install/upgrade hook Job in Kubernetes).
 */
import { runMigrateCli } from '@fleet/db';
import { createLogger } from '@fleet/observability';
import { OUTBOX_ENTITIES, OUTBOX_MIGRATIONS } from '@fleet/outbox';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('migrate: DATABASE_URL is required\n');
  process.exit(1);
}
const logger = createLogger({
  serviceName: 'outbox-poller-migrate',
  level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info',
});
void runMigrateCli(process.argv.slice(2), {
  db: {
    url,
    schema: process.env.DATABASE_SCHEMA ?? 'public',
    entities: [...OUTBOX_ENTITIES],
    migrations: [...OUTBOX_MIGRATIONS],
    applicationName: 'outbox-poller-migrate',
    logger,
  },
}).then((code) => process.exit(code));
