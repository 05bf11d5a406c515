import {
  type ExportCallbackEvent,
  type ExportCallbackRequest,
  type ExportCallbackType,
  exportCallbackRequested,
  exportJobInputSchema,
  inNamespace,
} from '@fleet/contracts';
import { type DataSource, type EntityManager } from '@fleet/db';
import { type AttemptFailure } from '@fleet/job-worker';
import { type Job } from '@fleet/jobs';
import { OUTBOX_ROW_COLUMNS, outboxRowValues, prepareOutboxRow } from '@fleet/outbox';
import { callbackEventId } from '@fleet/webhooks';

/** What a completed export's result carries into its callback (see ExportBundleResult). */
interface BundleSummary {
  engine: string;
  size: number;
  sha256: string;
}

/**
 * Writes an export's callback into the outbox: `export.completed` in the transaction that
 * completes the job, `export.failed` once the job is FAILED. The event id is derived from the
 * export and the type, and is also the outbox row's id (a second write of the same event is a
 * no-op while the row exists), so every delivery of one outcome carries one `webhook-id`.
 */
export class CallbackOutbox {
  constructor(private readonly deps: { dataSource: DataSource; namespace: string | undefined }) {}

  async completed(tx: EntityManager, job: Job): Promise<void> {
    const result = job.result as { bundles?: BundleSummary[] } | null;
    await this.write(tx, job, 'export.completed', {
      status: 'COMPLETED',
      bundles: (result?.bundles ?? []).map(({ engine, size, sha256 }) => ({ engine, size, sha256 })),
    });
  }

  async failed(job: Job, failure: AttemptFailure): Promise<void> {
    await this.deps.dataSource.transaction((tx) =>
      this.write(tx, job, 'export.failed', {
        status: 'FAILED',
        error: { code: failure.code, message: failure.message },
      }),
    );
  }

  private async write(
    tx: EntityManager,
    job: Job,
    type: ExportCallbackType,
    data: Record<string, unknown>,
  ): Promise<void> {
    const input = exportJobInputSchema.safeParse(job.input);
    if (!input.success || !input.data.callbackUrl) return;
    const event: ExportCallbackEvent = {
      id: callbackEventId(job.id, type),
      type,
      createdAt: (job.finishedAt ?? new Date()).toISOString(),
      data: { exportId: job.id, projectId: input.data.projectId, attempts: job.attempts, ...data },
    };
    const request: ExportCallbackRequest = { exportId: job.id, url: input.data.callbackUrl, event };
    const row = prepareOutboxRow(inNamespace(exportCallbackRequested, this.deps.namespace), {
      id: event.id,
      aggregateType: 'export',
      aggregateKey: job.id,
      eventType: type,
      payload: request,
    });
    await tx.query(
      `INSERT INTO outbox_events (${OUTBOX_ROW_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) ON CONFLICT (id) DO NOTHING`,
      outboxRowValues(row),
    );
  }
}
