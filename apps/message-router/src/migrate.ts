/**
 * `node dist/apps/message-router/migrate.js up|status`: the router's migrations (its deliveries
 * table and the outbox), run before the router starts (tools/fleet up; a Helm hook Job).
 */
import { runMigrateCli } from '@fleet/db';
import { createLogger } from '@fleet/observability';
import { ROUTER_MIGRATIONS } from './db/migrations';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('migrate: DATABASE_URL is required\n');
  process.exit(1);
}
const logger = createLogger({
  serviceName: 'message-router-migrate',
  level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info',
});
void runMigrateCli(process.argv.slice(2), {
  db: {
    url,
    schema: process.env.DATABASE_SCHEMA ?? 'public',
    migrations: [...ROUTER_MIGRATIONS],
    applicationName: 'message-router-migrate',
    logger,
  },
}).then((code) => process.exit(code));
