import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { EXPORT_JOB_KIND, exportJobInputSchema } from '@fleet/contracts';
import { sqlOf, type DataSource } from '@fleet/db';
import { ExportStore } from '@fleet/exports';
import { JobStore, type Job } from '@fleet/jobs';
import { type ObjectStore } from '@fleet/object-store';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { type FastifyReply } from 'fastify';
import { DATA_SOURCE, OBJECT_STORE } from '../app.tokens';
import { AuthGuard, CurrentUser } from '../auth/auth.guard';
import { type Principal } from '../auth/jwt-verifier';
import { CancelJob } from '../cancel-job/cancel-job.use-case';
import { type Config } from '../config';
import { badRequest, notFound } from '../http/api.errors';
import { parseInput } from '../http/input';
import { errorResponse, openApiSchema } from '../http/openapi';
import { parseJobId } from '../jobs/jobs.repository';
import { IDEMPOTENCY_KEY } from '../send-message/send-message.schema';
import { CreateExport } from './create-export.use-case';
import {
  acceptedExportSchema,
  createExportSchema,
  exportViewSchema,
  publicKeysSchema,
  type AcceptedExport,
  type ExportView,
} from './exports.schemas';

interface BundleResult {
  engine: 'ue5' | 'unity' | 'godot';
  key: string;
  size: number;
  sha256: string;
}

/** The public keys bundles are signed with: public, no token needed (anyone holding a bundle verifies it). */
@ApiTags('exports')
@Controller('v1/exports')
export class ExportKeysController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ExportStore) private readonly exports: ExportStore,
  ) {}

  @Get('keys')
  @ApiOperation({
    summary: 'Public keys of export manifests',
    description:
      'Every key an exporter replica has signed bundle manifests with (published at its boot), newest first; ' +
      '`verify.js --keys <this URL>` checks a bundle against them.',
  })
  @ApiResponse({ status: 200, description: 'The keys.', schema: openApiSchema(publicKeysSchema, 'output') })
  async keys(): Promise<{ keys: Awaited<ReturnType<ExportStore['publishedKeys']>> }> {
    return { keys: await this.exports.publishedKeys(sqlOf(this.dataSource.manager)) };
  }
}

@ApiTags('exports')
@ApiBearerAuth()
@Controller('v1/exports')
@UseGuards(AuthGuard)
export class ExportsController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(OBJECT_STORE) private readonly objects: ObjectStore,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
    @Inject(CreateExport) private readonly createExport: CreateExport,
    @Inject(CancelJob) private readonly cancelJob: CancelJob,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Export a map for game engines',
    description:
      'An `export_bundle` job: the exporter builds one signed zip per engine (ue5, unity, godot) from the ' +
      "project's map, its campaign's content and, with include_assets, its uploaded files. Progress: " +
      '`GET /v1/exports/{id}` or the jobs WebSocket; with `callback_url`, a signed `export.completed` / ' +
      '`export.failed` webhook. The same Idempotency-Key and body again answers the same export (200).',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: '1–200 printable ASCII characters.' })
  @ApiBody({ schema: openApiSchema(createExportSchema) })
  @ApiResponse({
    status: 202,
    description: 'Export created.',
    schema: openApiSchema(acceptedExportSchema, 'output'),
  })
  @ApiResponse({ status: 200, description: 'Replayed: this key already made this export.' })
  @ApiResponse(
    errorResponse(
      400,
      'VALIDATION_FAILED (engines, quality, seed, godot_version …: the path names the field), IDEMPOTENCY_KEY_MISSING/INVALID, MANIFEST_TOO_LARGE, CALLBACK_URL_INVALID (not http(s), credentials).',
    ),
  )
  @ApiResponse(errorResponse(401, 'Missing or invalid bearer token.'))
  @ApiResponse(
    errorResponse(
      422,
      'PROJECT_NOT_FOUND / PROJECT_NOT_COMPLETED (body.project_id), CALLBACK_URL_REFUSED (SSRF rule), IDEMPOTENCY_KEY_REUSED.',
    ),
  )
  async create(
    @CurrentUser() user: Principal,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedExport> {
    if (idempotencyKey === undefined || idempotencyKey === '') {
      throw badRequest('IDEMPOTENCY_KEY_MISSING', 'the Idempotency-Key header is required');
    }
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw badRequest('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1–200 printable ASCII characters');
    }
    const input = parseInput(createExportSchema, body, 'body');
    const created = await this.createExport.run({ ownerId: user.userId, idempotencyKey, body: input });
    const location = `/v1/exports/${created.exportId}`;
    void reply.header('location', location);
    if (created.replayed) void reply.status(200).header('idempotent-replayed', 'true');
    return { exportId: created.exportId, status: created.status as AcceptedExport['status'], location };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'An export of the caller',
    description:
      'Status, progress (0–100) and stage; once COMPLETED, per engine its size, SHA-256 and a presigned download ' +
      'URL (valid JOB_ARTIFACT_URL_TTL_SECONDS).',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, description: 'The export.', schema: openApiSchema(exportViewSchema, 'output') })
  @ApiResponse(errorResponse(404, "No such export (or another user's)."))
  async get(@CurrentUser() user: Principal, @Param('id') id: string): Promise<ExportView> {
    return this.view(await this.ownExport(parseJobId(id), user.userId));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel an export',
    description:
      'PENDING or PROCESSING only; a running exporter stops at its next lease renewal and aborts its uploads.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, description: 'Cancelled.', schema: openApiSchema(exportViewSchema, 'output') })
  @ApiResponse(errorResponse(404, "No such export (or another user's)."))
  @ApiResponse(errorResponse(409, 'JOB_FINISHED: already COMPLETED, FAILED or CANCELLED.'))
  async cancel(@CurrentUser() user: Principal, @Param('id') id: string): Promise<ExportView> {
    const exportId = parseJobId(id);
    await this.ownExport(exportId, user.userId);
    return this.view(await this.cancelJob.run(exportId, user.userId));
  }

  private async ownExport(id: string, userId: string): Promise<Job> {
    const job = await this.jobs.get(sqlOf(this.dataSource.manager), id);
    if (!job || job.ownerId !== userId || job.kind !== EXPORT_JOB_KIND)
      throw notFound(`export ${id} not found`);
    return job;
  }

  private async view(job: Job): Promise<ExportView> {
    const input = exportJobInputSchema.parse(job.input);
    const view: ExportView = {
      id: job.id,
      status: job.status,
      progress: job.progress,
      stage: job.stage,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      error: job.error,
      request: {
        project_id: input.projectId,
        engines: input.engines,
        include_assets: input.includeAssets,
        quality: input.quality,
        seed: input.seed,
        godot_version: input.godotVersion,
        callback_url: input.callbackUrl ?? null,
      },
      lastEventSeq: job.lastEventSeq,
      createdAt: job.createdAt.toISOString(),
      finishedAt: job.finishedAt?.toISOString() ?? null,
    };
    if (job.status !== 'COMPLETED') return view;
    const ttl = this.config.JOB_ARTIFACT_URL_TTL_SECONDS;
    // Whole seconds before signing: the URL stays valid at least until the expiry announced.
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + ttl * 1000).toISOString();
    const bundles = ((job.result as { bundles?: BundleResult[] } | null)?.bundles ?? []).map(async (b) => ({
      engine: b.engine,
      size: b.size,
      sha256: b.sha256,
      url: await this.objects.presignedDownload(b.key, ttl, {
        filename: `export-${job.id}-${b.engine}.zip`,
        contentType: 'application/zip',
      }),
      expiresAt,
    }));
    return { ...view, bundles: await Promise.all(bundles) };
  }
}
