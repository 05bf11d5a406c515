/**
 * `node dist/apps/api/migrate.js up|status`: the api's migrations (outbox table + chat tables), run
 * before the api starts (tools/fleet up; a Helm pre-install/upgrade hook Job in Kubernetes).
 */
import { runMigrateCli } from '@fleet/db';
import { createLogger } from '@fleet/observability';
import { OUTBOX_ENTITIES } from '@fleet/outbox';
import { API_ENTITIES } from './chat/chat.entities';
import { API_MIGRATIONS } from './migrations';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('migrate: DATABASE_URL is required\n');
  process.exit(1);
}
const logger = createLogger({
  serviceName: 'api-migrate',
  level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info',
});
void runMigrateCli(process.argv.slice(2), {
  db: {
    url,
    schema: process.env.DATABASE_SCHEMA ?? 'public',
    entities: [...OUTBOX_ENTITIES, ...API_ENTITIES],
    migrations: API_MIGRATIONS,
    applicationName: 'api-migrate',
    logger,
  },
}).then((code) => process.exit(code));
