import { type MigrationClass } from '@fleet/db';
import { CreateExports1765100000000 } from './1765100000000-CreateExports';

/** After the jobs, uploads and pools migrations (it references `jobs`, `uploads`, `campaigns`). */
export const EXPORT_MIGRATIONS: readonly MigrationClass[] = [CreateExports1765100000000];
