/**
 * The admin API's answers as fleetctl reads them: the api's own zod schemas, imported for their
 * types only (erased at build), so the CLI cannot drift from the routes and its bundle carries none
 * of the api's code.
 */
import { type z } from 'zod';
import { type BreakerActionResult, type BreakersView } from '../ops-breakers/breakers.schemas';
import {
  type auditPageSchema,
  type DeadLetterSummary,
  type DeadLetterView,
  type dlqPageSchema,
  type dlqTopicsSchema,
  type eventLifeSchema,
  type redrivePreviewSchema,
  type RedriveView,
} from '../ops/ops.schemas';

export type { BreakerActionResult, BreakersView, DeadLetterSummary };
export type DeadLetterDetail = DeadLetterView;
export type Redrive = RedriveView;
export type DeadLetterPage = z.infer<typeof dlqPageSchema>;
export type TopicSummary = z.infer<typeof dlqTopicsSchema>['topics'][number];
export type RedrivePreview = z.infer<typeof redrivePreviewSchema>;
export type EventLife = z.infer<typeof eventLifeSchema>;
export type AuditRecord = z.infer<typeof auditPageSchema>['items'][number];
