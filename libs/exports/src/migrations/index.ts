import { type MigrationClass } from '@fleet/db';
import { CreateExports1765100000000 } from './1765100000000-CreateExports';
import { ExportCallbackDeliveries1765400000000 } from './1765400000000-ExportCallbackDeliveries';

/** After the jobs, uploads and pools migrations (it references `jobs`, `uploads`, `campaigns`). */
export const EXPORT_MIGRATIONS: readonly MigrationClass[] = [
  CreateExports1765100000000,
  ExportCallbackDeliveries1765400000000,
];
