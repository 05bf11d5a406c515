import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EXPORT_JOB_KIND, type ExportJobInput, exportJobRequested, inNamespace } from '@fleet/contracts';
import { type DataSource, sqlOf } from '@fleet/db';
import { type ExportRequestRecord, ExportStore } from '@fleet/exports';
import { JobStore } from '@fleet/jobs';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { type AllowlistEntry, checkCallbackUrl, parseAllowlist } from '@fleet/webhooks';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { type Config } from '../config';
import { ApiError, badRequest } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import { type CreateExportBody } from './exports.schemas';

export interface CreateExportCommand {
  ownerId: string;
  idempotencyKey: string;
  body: CreateExportBody;
}

export interface CreateExportResult {
  exportId: string;
  status: string;
  replayed: boolean;
}

/** The unique violation PostgreSQL raises when a concurrent request took the key first. */
const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/**
 * An export request (seed 002) → in ONE transaction an `export_bundle` job, its request on
 * `export.job.requested.1` (the outbox) and its `export_requests` row. Checked first, writing
 * nothing when refused: the project is a COMPLETED map job of the caller (422 naming
 * `body.project_id`), the manifest within EXPORT_MANIFEST_MAX_BYTES, the callback URL http(s) and
 * allowed by the SSRF rule. The same Idempotency-Key with the same body answers the same export
 * (200); with another body 422.
 */
@Injectable()
export class CreateExport {
  private readonly allowlist: AllowlistEntry[];

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(ExportStore) private readonly exports: ExportStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {
    this.allowlist = parseAllowlist(config.EXPORT_CALLBACK_ALLOWLIST);
  }

  async run(command: CreateExportCommand): Promise<CreateExportResult> {
    const { ownerId, idempotencyKey, body } = command;
    const requestSha256 = hashRequest(body);
    const existing = await this.exports.requestByKey(sqlOf(this.dataSource.manager), ownerId, idempotencyKey);
    if (existing) return this.replay(existing, requestSha256);

    this.checkManifest(body.manifest);
    await this.checkProject(ownerId, body.project_id);
    const callbackUrl =
      body.callback_url === undefined ? undefined : await this.checkCallback(body.callback_url);

    const exportId = randomUUID();
    const input: ExportJobInput = {
      projectId: body.project_id,
      engines: [...body.engines],
      includeAssets: body.include_assets,
      quality: body.quality,
      seed: body.seed ?? exportId,
      godotVersion: body.godot_version,
      ...(body.manifest ? { manifest: body.manifest } : {}),
      ...(callbackUrl ? { callbackUrl } : {}),
    };
    const topic = inNamespace(exportJobRequested, this.config.KAFKA_TOPIC_NAMESPACE);
    try {
      await this.dataSource.transaction(async (tx) => {
        await this.jobs.create(
          tx,
          { id: exportId, kind: EXPORT_JOB_KIND, ownerId, input, maxAttempts: this.config.JOB_MAX_ATTEMPTS },
          topic,
        );
        await this.exports.recordRequest(sqlOf(tx), {
          jobId: exportId,
          ownerId,
          idempotencyKey,
          requestSha256,
          projectId: body.project_id,
        });
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A concurrent request with this key won: its export is the answer (or its body differs).
      const winner = await this.exports.requestByKey(sqlOf(this.dataSource.manager), ownerId, idempotencyKey);
      if (!winner) throw error;
      return this.replay(winner, requestSha256);
    }
    this.metrics.jobsCreated.inc({ kind: EXPORT_JOB_KIND });
    return { exportId, status: 'PENDING', replayed: false };
  }

  private async replay(existing: ExportRequestRecord, requestSha256: string): Promise<CreateExportResult> {
    if (existing.requestSha256 !== requestSha256) {
      throw new ApiError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was already used for a different export request; use a new key',
        { exportId: existing.jobId },
      );
    }
    const job = await this.jobs.get(sqlOf(this.dataSource.manager), existing.jobId);
    return { exportId: existing.jobId, status: job?.status ?? 'PENDING', replayed: true };
  }

  private checkManifest(manifest: Record<string, unknown> | undefined): void {
    if (manifest === undefined) return;
    const bytes = Buffer.byteLength(JSON.stringify(manifest), 'utf8');
    const max = this.config.EXPORT_MANIFEST_MAX_BYTES;
    if (bytes > max) {
      throw badRequest(
        'MANIFEST_TOO_LARGE',
        `body.manifest is ${bytes} bytes of JSON; at most ${max} (EXPORT_MANIFEST_MAX_BYTES)`,
        { field: 'body.manifest', bytes, maxBytes: max },
      );
    }
  }

  /** Another user's job answers like a missing one: an id's existence is not confirmed to strangers. */
  private async checkProject(ownerId: string, projectId: string): Promise<void> {
    const project = await this.jobs.get(sqlOf(this.dataSource.manager), projectId);
    if (!project || project.ownerId !== ownerId || project.kind !== 'map_generation') {
      throw new ApiError(
        422,
        'PROJECT_NOT_FOUND',
        `body.project_id: ${projectId} is not one of your map jobs (POST /v1/maps makes one)`,
        { field: 'body.project_id' },
      );
    }
    if (project.status !== 'COMPLETED') {
      throw new ApiError(
        422,
        'PROJECT_NOT_COMPLETED',
        `body.project_id: map job ${projectId} is ${project.status}; export it once it is COMPLETED`,
        { field: 'body.project_id', status: project.status },
      );
    }
  }

  private async checkCallback(raw: string): Promise<string> {
    const check = await checkCallbackUrl(raw, { allowlist: this.allowlist });
    if (check.ok) return check.url.toString();
    const status = check.code === 'BLOCKED_ADDRESS' || check.code === 'RESOLVE_FAILED' ? 422 : 400;
    throw new ApiError(
      status,
      status === 422 ? 'CALLBACK_URL_REFUSED' : 'CALLBACK_URL_INVALID',
      `body.callback_url: ${check.reason}`,
      { field: 'body.callback_url', reason: check.code },
    );
  }
}

/** What the request asked for, as parsed (defaults applied); a replay must ask for the same. */
export function hashRequest(body: CreateExportBody): string {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(sorted(body)))
    .digest('hex');
}
