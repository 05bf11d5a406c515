import { type MigrationClass } from '@fleet/db';
import { CreateOps1765200000000 } from './migrations/1765200000000-CreateOps';

export { AuditLog, type AuditEntry, type AuditRecord } from './audit';
export {
  DEAD_LETTER_STATUSES,
  DeadLetterError,
  DeadLetterStore,
  deadLetterFilterSchema,
  traceIdOf,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterStatus,
  type TopicSummary,
} from './dead-letters';
export { DEFAULT_REDRIVE_CAP, DeadLetterIndexer, type DeadLetterIndexerOptions } from './indexer';
export {
  EventLifeQuery,
  type BusinessRowLookup,
  type EventLife,
  type EventLifeOptions,
  type EventStep,
  type GroupOutcome,
  type StepKind,
} from './event-life';
export { isUuid, jaegerTraceUrl } from './ids';
export { opsMetrics, type OpsMetrics } from './metrics';
export {
  MAX_RATE_PER_SECOND,
  RedriveError,
  Redriver,
  discardDeadLetters,
  type Redrive,
  type RedrivePreview,
  type RedriverOptions,
  type RedriveStatus,
  type Selection,
} from './redrive';

/** The ops tables (dead-letter index, retries ledger, redrives, audit); in the api's migration set. */
export const OPS_MIGRATIONS: readonly MigrationClass[] = [CreateOps1765200000000];
