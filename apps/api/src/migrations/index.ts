import { type MigrationClass } from '@fleet/db';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { CreateChat1764100000000 } from './1764100000000-CreateChat';

/** Every migration of the api's data source: the outbox table (written in the same transactions) and the chat tables. */
export const API_MIGRATIONS: readonly MigrationClass[] = [...OUTBOX_MIGRATIONS, CreateChat1764100000000];
