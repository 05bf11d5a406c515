import { type Readable } from 'node:stream';
import {
  EXPORT_JOB_KIND,
  type ExportEngine,
  type ExportJobInput,
  exportJobInputSchema,
} from '@fleet/contracts';
import { type DataSource, type EntityManager, sqlOf } from '@fleet/db';
import {
  assetRoot,
  buildEngineFiles,
  CampaignContentSchema,
  type CampaignContent,
  MapDocumentSchema,
  type MapDocument,
} from '@fleet/engine-bundles';
import { type ExportStore, type ProjectAsset } from '@fleet/exports';
import { type AttemptFailure, JobRejected, type JobAttempt, type JobKind } from '@fleet/job-worker';
import { type Job, type JobStore } from '@fleet/jobs';
import { isNoSuchObject, type ObjectStore } from '@fleet/object-store';
import { type Logger } from '@fleet/observability';
import { type ManifestSigner } from '@fleet/signing';
import { z } from 'zod';
import { ArchiveError, type ArchiveEntry, writeArchive } from '../bundle/archive';
import { GENERATOR, MANIFEST_FORMAT, manifestBytes, signManifest } from '../bundle/manifest';
import { renderTexture } from '../bundle/texture';
import { type CallbackOutbox } from '../callbacks/callback-outbox';
import { type ExporterMetrics } from '../metrics';
import { assetFileNames, bundleKey, exportPrefix } from './export-paths';

/** What a completed map job's result says of its artifacts (apps/generation's MapGenerationResult). */
const mapResultSchema = z.object({ artifacts: z.object({ json: z.string(), svg: z.string() }) });

export interface ExportedBundle {
  engine: ExportEngine;
  key: string;
  size: number;
  sha256: string;
  files: number;
}

export interface ExportBundleResult {
  bundles: ExportedBundle[];
  texture: { width: number; height: number };
  content: Record<keyof CampaignContent, number> | null;
  assets: number;
  signature: { algorithm: string; keyId: string };
}

/** Reads a small object whole, refusing one over `maxBytes`; `undefined` when it does not exist. */
async function readObject(objects: ObjectStore, key: string, maxBytes: number): Promise<Buffer | undefined> {
  let stream: Readable;
  try {
    stream = await objects.get(key);
  } catch (error) {
    if (isNoSuchObject(error)) return undefined;
    throw error;
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      stream.destroy();
      throw new JobRejected('ARTIFACT_TOO_LARGE', `${key} is over EXPORT_MAX_MAP_BYTES (${maxBytes} bytes)`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts, size);
}

const CONTENT_KINDS = ['pois', 'npcs', 'quests', 'encounters', 'dungeons'] as const;

/**
 * Export bundles (seed 002): per requested engine, one deterministic zip of the project's map (its
 * JSON model as engine files, its SVG rasterized to a texture), the content of the project's
 * campaign and, with `includeAssets`, the project's uploaded files — streamed from MinIO into a
 * multipart upload of `exports/<jobId>/<engine>.zip`, with a signed manifest as its last entry.
 *
 * Stages: 2 `prepare` (a crashed attempt's multipart uploads aborted) → 5 `load` (map job,
 * artifacts, campaign, assets) → 10 `render` (texture) → 15…95 `bundle:<engine>` → 100. A missing
 * or unfinished project, or vanished artifacts, reject the job at once (no retries).
 */
export class ExportBundle implements JobKind {
  readonly kind = EXPORT_JOB_KIND;

  constructor(
    private readonly deps: {
      dataSource: DataSource;
      jobs: JobStore;
      exports: ExportStore;
      objects: ObjectStore;
      signer: ManifestSigner;
      callbacks: CallbackOutbox;
      metrics: ExporterMetrics;
      logger: Logger;
      partSize: number;
      maxMapBytes: number;
      maxContentItems: number;
    },
  ) {}

  async run({ job, signal, progress }: JobAttempt): Promise<ExportBundleResult> {
    const input = this.parseInput(job);
    await progress(2, 'prepare');
    // A previous attempt that died mid-upload left parts: its lease is gone, so no writer is at work.
    const aborted = await this.deps.objects.abortIncompleteUploads(exportPrefix(job.id));
    if (aborted > 0)
      this.deps.logger.info({ jobId: job.id, aborted }, 'aborted a previous attempt’s uploads');

    await progress(5, 'load');
    const { map, svg } = await this.loadProject(job, input);
    const { content, assets } = await this.loadContent(job, input);

    await progress(10, 'render');
    const texture = await renderTexture(svg, map, input.quality);
    signal.throwIfAborted();

    const names = assetFileNames(assets);
    const bundles: ExportedBundle[] = [];
    const engines = [...input.engines].sort();
    for (const [index, engine] of engines.entries()) {
      await progress(15 + Math.floor((80 * index) / engines.length), `bundle:${engine}`);
      bundles.push(
        await this.buildBundle(job, input, engine, { map, content, assets, names, texture }, signal),
      );
    }
    return {
      bundles,
      texture: { width: texture.width, height: texture.height },
      content: content
        ? (Object.fromEntries(CONTENT_KINDS.map((k) => [k, content[k]?.length ?? 0])) as Record<
            keyof CampaignContent,
            number
          >)
        : null,
      assets: assets.length,
      signature: { algorithm: this.deps.signer.algorithm, keyId: this.deps.signer.keyId },
    };
  }

  /** The callback of a completed export, in the completion's own transaction. */
  async completing(tx: EntityManager, job: Job): Promise<void> {
    await this.deps.callbacks.completed(tx, job);
  }

  async onFailed(job: Job, failure: AttemptFailure): Promise<void> {
    await this.deps.callbacks.failed(job, failure);
  }

  private parseInput(job: Job): ExportJobInput {
    const parsed = exportJobInputSchema.safeParse(job.input);
    if (!parsed.success) {
      throw new JobRejected('INPUT_INVALID', `export input is invalid: ${parsed.error.issues[0]?.message}`);
    }
    return parsed.data;
  }

  /** The project's map job (the owner's, COMPLETED) and its two artifacts. */
  private async loadProject(job: Job, input: ExportJobInput): Promise<{ map: MapDocument; svg: string }> {
    const sql = sqlOf(this.deps.dataSource.manager);
    const project = await this.deps.jobs.get(sql, input.projectId);
    if (!project || project.ownerId !== job.ownerId || project.kind !== 'map_generation') {
      throw new JobRejected('PROJECT_NOT_FOUND', `project ${input.projectId} is not a map job of this owner`);
    }
    const result = mapResultSchema.safeParse(project.result);
    if (project.status !== 'COMPLETED' || !result.success) {
      throw new JobRejected(
        'PROJECT_NOT_COMPLETED',
        `project ${input.projectId} is ${project.status}, not COMPLETED`,
      );
    }
    const { json: jsonKey, svg: svgKey } = result.data.artifacts;
    const [json, svg] = await Promise.all([
      readObject(this.deps.objects, jsonKey, this.deps.maxMapBytes),
      readObject(this.deps.objects, svgKey, this.deps.maxMapBytes),
    ]);
    const missing = [json ? undefined : jsonKey, svg ? undefined : svgKey].filter(Boolean);
    if (missing.length > 0) {
      throw new JobRejected(
        'ARTIFACTS_MISSING',
        `the project's artifacts are gone from object storage: ${missing.join(', ')}`,
      );
    }
    let document: unknown;
    try {
      document = JSON.parse(json!.toString('utf8'));
    } catch {
      throw new JobRejected('MAP_INVALID', `${jsonKey} is not JSON`);
    }
    const map = MapDocumentSchema.safeParse(document);
    if (!map.success) {
      throw new JobRejected(
        'MAP_INVALID',
        `${jsonKey} is not a map document: ${map.error.issues[0]?.message}`,
      );
    }
    return { map: map.data, svg: svg!.toString('utf8') };
  }

  /** The project's campaign content (if it has a campaign) and, when asked, its uploaded files. */
  private async loadContent(
    job: Job,
    input: ExportJobInput,
  ): Promise<{ content: CampaignContent | undefined; assets: ProjectAsset[] }> {
    const sql = sqlOf(this.deps.dataSource.manager);
    const campaign = await this.deps.exports.projectCampaign(sql, input.projectId);
    let content: CampaignContent | undefined;
    if (campaign) {
      const rows = await this.deps.exports.campaignContent(
        sql,
        campaign.campaignSeed,
        this.deps.maxContentItems,
      );
      const parsed = CampaignContentSchema.safeParse(rows);
      if (!parsed.success) {
        throw new JobRejected(
          'CONTENT_INVALID',
          `campaign ${campaign.campaignSeed}'s content does not fit a bundle: ${parsed.error.issues[0]?.message}`,
        );
      }
      content = parsed.data;
    }
    const assets = input.includeAssets
      ? await this.deps.exports.projectAssets(sql, job.ownerId, input.projectId)
      : [];
    return { content, assets };
  }

  private async buildBundle(
    job: Job,
    input: ExportJobInput,
    engine: ExportEngine,
    parts: {
      map: MapDocument;
      content: CampaignContent | undefined;
      assets: ProjectAsset[];
      names: Map<string, string>;
      texture: { png: Buffer; width: number; height: number };
    },
    signal: AbortSignal,
  ): Promise<ExportedBundle> {
    const started = performance.now();
    const root = assetRoot(engine);
    const texturePath = 'textures/map.png';
    const assetPaths = parts.assets.map((a) => ({ asset: a, path: `files/${parts.names.get(a.id)!}` }));
    const generated = buildEngineFiles(
      {
        map: parts.map,
        ...(parts.content ? { campaign: parts.content } : {}),
        assets: [
          { path: texturePath, kind: 'texture', size: parts.texture.png.length },
          ...assetPaths.map(({ asset, path }) => ({ path, kind: 'file' as const, size: asset.size })),
        ],
      },
      { engine, godotVersion: input.godotVersion, seed: input.seed },
    );
    const objects = this.deps.objects;
    const entries: ArchiveEntry[] = [
      ...generated.map((f) => ({ path: f.path, content: f.content })),
      { path: `${root}${texturePath}`, content: parts.texture.png },
      ...assetPaths.map(({ asset, path }) => ({
        path: `${root}${path}`,
        size: asset.size,
        expectedSha256: asset.sha256,
        open: async () => {
          try {
            return await objects.get(asset.objectKey);
          } catch (error) {
            if (isNoSuchObject(error)) {
              throw new JobRejected(
                'ASSET_MISSING',
                `upload ${asset.id} (${asset.filename}) is gone from object storage`,
              );
            }
            throw error;
          }
        },
      })),
    ];
    const key = bundleKey(job.id, engine);
    try {
      const { sink } = await writeArchive({
        entries,
        signal,
        finish: async (files) =>
          manifestBytes(
            await signManifest(
              {
                format: MANIFEST_FORMAT,
                generator: { ...GENERATOR },
                request: {
                  projectId: input.projectId,
                  engine,
                  engines: [...input.engines].sort(),
                  quality: input.quality,
                  includeAssets: input.includeAssets,
                  seed: input.seed,
                  godotVersion: input.godotVersion,
                  textureSize: { width: parts.texture.width, height: parts.texture.height },
                  ...(input.manifest ? { manifest: input.manifest } : {}),
                },
                files,
              },
              this.deps.signer,
            ),
          ),
        sink: (output) =>
          objects.putMultipart(key, output, {
            partSize: this.deps.partSize,
            signal,
            contentType: 'application/zip',
          }),
      });
      this.deps.metrics.bundles.inc({ engine, outcome: 'completed' });
      this.deps.metrics.bundleBytes.inc({ engine }, sink.size);
      this.deps.metrics.bundleDuration.observe({ engine }, (performance.now() - started) / 1000);
      return { engine, key, size: sink.size, sha256: sink.sha256, files: entries.length + 1 };
    } catch (error) {
      this.deps.metrics.bundles.inc({ engine, outcome: 'failed' });
      if (error instanceof ArchiveError && error.code === 'ENTRY_MISMATCH') {
        // The stored bytes are not what was uploaded: no retry reads different ones.
        throw new JobRejected('ASSET_CORRUPT', error.message);
      }
      throw error;
    }
  }
}
