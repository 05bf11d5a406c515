import { type MigrationClass } from '@fleet/db';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { UPLOAD_MIGRATIONS } from '@fleet/uploads';
import { CreateChat1764100000000 } from './1764100000000-CreateChat';
import { ApplyStatusFunction1764500000000 } from './1764500000000-ApplyStatusFunction';

/**
 * Every migration of the api's data source: the outbox table (written in the same transactions),
 * the chat tables and the upload tables (file-merge and upload-gc work on them too; the api's
 * migrate command is the one that creates them).
 */
export const API_MIGRATIONS: readonly MigrationClass[] = [
  ...OUTBOX_MIGRATIONS,
  CreateChat1764100000000,
  ...UPLOAD_MIGRATIONS,
  ApplyStatusFunction1764500000000,
];
