/**
 * The parts of the admin API's answers fleetctl reads (the api's OpenAPI at /docs has them in
 * full). Declared here rather than imported so the CLI bundle stays free of the api's Nest code.
 */

export type DeadLetterStatus = 'DEAD' | 'REDRIVING' | 'REDRIVEN' | 'DISCARDED' | 'PARKED';

export interface TopicSummary {
  topic: string;
  dlqTopic: string;
  counts: Record<DeadLetterStatus, number>;
  groups: string[];
}

export interface DeadLetterSummary {
  id: string;
  topic: string;
  dlqTopic: string;
  dlqPartition: number;
  dlqOffset: string;
  consumerGroup: string;
  reason: string;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  key: string | null;
  eventId: string | null;
  eventType: string | null;
  failedAt: string;
  redriveCount: number;
  status: DeadLetterStatus;
  statusReason: string | null;
  statusAt: string;
  redriveId: string | null;
  traceId: string | null;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  headers: Record<string, string>;
  payload: unknown;
  valueText: string | null;
  originalPartition: number;
  originalOffset: string;
  firstFailureAt: string | null;
  jaegerUrl: string | null;
}

export interface DeadLetterPage {
  items: DeadLetterSummary[];
  nextCursor: string | null;
  total: number;
}

export interface RedrivePreview {
  dryRun: true;
  matched: number;
  byGroup: Record<string, number>;
  sample: DeadLetterSummary[];
}

export interface Redrive {
  id: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED';
  matched: number;
  redriven: number;
  skipped: number;
  failed: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface EventLife {
  eventId: string;
  topic: string;
  key: string | null;
  eventType?: string | null;
  traceId: string | null;
  jaegerUrl: string | null;
  steps: Array<{ at: string | null; kind: string; group?: string; detail: string }>;
  groups: Array<{ group: string; outcome: string; attempts: number; redrives?: number }>;
}

export interface AuditRecord {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  filter: unknown;
  count: number;
  dryRun: boolean;
  reason: string | null;
  detail: unknown;
}
