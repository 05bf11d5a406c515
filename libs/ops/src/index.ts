import { type MigrationClass } from '@fleet/db';
import { CreateOps1765200000000 } from './migrations/1765200000000-CreateOps';

export { AuditLog, type AuditEntry, type AuditRecord } from './audit';

/** The ops tables (dead-letter index, retries ledger, audit); in the api's migration set. */
export const OPS_MIGRATIONS: readonly MigrationClass[] = [CreateOps1765200000000];
