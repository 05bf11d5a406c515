/**
 * The operator CLI for parked outbox events (`runAdmin` in ./admin-commands has the commands):
 *
 *   node dist/apps/outbox-poller/admin.js parked [limit]       list them, oldest first (JSON lines)
 *   node dist/apps/outbox-poller/admin.js replay <id> [id...]  put these back in line
 *   node dist/apps/outbox-poller/admin.js replay --all         put every parked event back in line
 */
import { runAdmin } from './admin-commands';

void runAdmin(process.argv.slice(2), process.env, (text) => void process.stdout.write(text)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`admin failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
