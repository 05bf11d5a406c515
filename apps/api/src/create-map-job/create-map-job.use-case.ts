import { Inject, Injectable } from '@nestjs/common';
import { generationJobRequested, inNamespace } from '@fleet/contracts';
import { type DataSource } from '@fleet/db';
import { JobStore } from '@fleet/jobs';
import { SERVICE_CONFIG } from '@fleet/service-kit';
import { API_METRICS, DATA_SOURCE } from '../app.tokens';
import { type Config } from '../config';
import { badRequest } from '../http/api.errors';
import { type ApiMetrics } from '../http/api.metrics';
import { JOB_KINDS, type AcceptedJob } from '../jobs/jobs.schemas';
import { checkContent } from '../uploads/content-check';

export interface CreateMapJobCommand {
  ownerId: string;
  /** `text/plain` or `text/markdown` (base type, lower-cased). */
  contentType: string;
  /** The body as received (at most MAP_DOCUMENT_MAX_BYTES: the body parser saw to it). */
  body: Buffer;
  filename: string;
}

/**
 * A map job from a document (seed 000): the document must be UTF-8 text — not empty, no NUL, no
 * binary format's signature — → in ONE transaction a `map_generation` job whose input is
 * `{ document, filename }` and its request in the outbox. The document travels in the job's input
 * (bounded by MAP_DOCUMENT_MAX_BYTES), so the worker needs nothing but the job row.
 */
@Injectable()
export class CreateMapJob {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(JobStore) private readonly jobs: JobStore,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: Config,
  ) {}

  async run(command: CreateMapJobCommand): Promise<AcceptedJob> {
    const document = await readDocument(command.contentType, command.body);
    const topic = inNamespace(generationJobRequested, this.config.KAFKA_TOPIC_NAMESPACE);
    const { job } = await this.dataSource.transaction((tx) =>
      this.jobs.create(
        tx,
        {
          kind: JOB_KINDS.mapGeneration,
          ownerId: command.ownerId,
          input: { document, filename: command.filename },
          maxAttempts: this.config.JOB_MAX_ATTEMPTS,
        },
        topic,
      ),
    );
    this.metrics.jobsCreated.inc({ kind: JOB_KINDS.mapGeneration });
    return { jobId: job.id, kind: job.kind, status: 'PENDING' };
  }
}

/**
 * The document as text, or 400 with the reason: empty (or only whitespace), a binary format
 * recognised by its signature (PDF, ZIP, PNG …), a NUL byte, invalid UTF-8. A UTF-8 BOM is dropped.
 */
export async function readDocument(contentType: string, body: Buffer): Promise<string> {
  if (body.length === 0) throw badRequest('DOCUMENT_EMPTY', 'the document is empty');
  const verdict = await checkContent(contentType, body, false);
  if (!verdict.ok) {
    throw badRequest('DOCUMENT_NOT_TEXT', `${verdict.reason}; a map document must be UTF-8 text`, {
      detected: verdict.detected ?? null,
    });
  }
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim().length === 0) {
    throw badRequest('DOCUMENT_EMPTY', 'the document holds only whitespace');
  }
  return text;
}
