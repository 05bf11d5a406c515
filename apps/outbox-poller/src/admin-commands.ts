/**
 * Operator commands for parked outbox events (events the broker refused `OUTBOX_MAX_ATTEMPTS` times):
 *
 *   node dist/apps/outbox-poller/admin.js parked [limit]       list them, oldest first (JSON lines)
 *   node dist/apps/outbox-poller/admin.js replay <id> [id...]  put these back in line
 *   node dist/apps/outbox-poller/admin.js replay --all         put every parked event back in line
 *
 * Needs DATABASE_URL (and DATABASE_SCHEMA when not `public`). Exit 0 ok, 1 failed, 2 usage.
 */
import { connectDataSource, sqlOf } from '@fleet/db';
import { createLogger } from '@fleet/observability';
import { OutboxStore } from '@fleet/outbox';

const USAGE = 'usage: admin.js parked [limit] | replay --all | replay <event-id>...\n';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function runAdmin(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  write: (text: string) => void,
): Promise<number> {
  const [command, ...args] = argv;
  const limit = command === 'parked' ? Number(args[0] ?? 100) : 0;
  const all = command === 'replay' && args.length === 1 && args[0] === '--all';
  const ids = command === 'replay' && !all ? args : [];
  const valid =
    (command === 'parked' && args.length <= 1 && Number.isInteger(limit) && limit > 0) ||
    (command === 'replay' && (all || (ids.length > 0 && ids.every((id) => UUID.test(id)))));
  if (!valid) {
    write(USAGE);
    return 2;
  }
  if (!env.DATABASE_URL) {
    write('admin: DATABASE_URL is required\n');
    return 1;
  }
  const logger = createLogger({ serviceName: 'outbox-poller-admin', level: 'warn' });
  const dataSource = await connectDataSource({
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA ?? 'public',
    applicationName: 'outbox-poller-admin',
    poolSize: 1,
    logger,
  });
  try {
    const store = new OutboxStore();
    if (command === 'parked') {
      for (const event of await store.listParked(sqlOf(dataSource.manager), limit))
        write(`${JSON.stringify(event)}\n`);
    } else {
      const replayed = await store.replayParked(sqlOf(dataSource.manager), all ? undefined : ids);
      write(`replayed ${replayed.length} event(s)${replayed.length ? `: ${replayed.join(' ')}` : ''}\n`);
      if (!all && replayed.length < ids.length) {
        write(
          `not parked (unknown or already back in line): ${ids.filter((id) => !replayed.includes(id)).join(' ')}\n`,
        );
      }
    }
    return 0;
  } catch (error) {
    write(`admin ${command} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await dataSource.destroy();
  }
}
