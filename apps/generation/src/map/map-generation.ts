import { type Job } from '@fleet/jobs';
import { type LlmClient } from '@fleet/llm';
import { type ObjectStore } from '@fleet/object-store';
import { z } from 'zod';
import { JobRejected, type JobAttempt, type JobKind } from '@fleet/job-worker';
import { layoutMap } from './layout';
import { MapStructureSchema } from './map-model';
import { normalizeStructure, sectionsPrompt, splitSections } from './parse';
import { renderJson, renderSvg } from './render';

export const MAP_GENERATION = 'map_generation';

/** A map job's input, as the api stores it: the uploaded text/Markdown document (size-limited there). */
export const mapGenerationInput = z.object({
  document: z.string(),
  filename: z.string().min(1).max(255),
});

/** Where a job's artifacts live: deterministic, so a repeated attempt overwrites the same objects. */
export const mapArtifactKeys = (jobId: string) => ({
  json: `jobs/${jobId}/map.json`,
  svg: `jobs/${jobId}/map.svg`,
});

export interface MapGenerationResult {
  artifacts: { json: string; svg: string };
  regions: number;
  places: number;
  routes: number;
  sections: number;
  /** What normalization dropped or reassigned from the LLM's answer. */
  dropped: { duplicatePlaces: number; unknownRoutes: number; placesWithoutRegion: number };
}

const SYSTEM_PROMPT = [
  'You turn a document describing a world, a country, a campus or a plan into a map structure.',
  'Answer with JSON only, matching the schema.',
  'regions: the large areas the document names, each with a one-sentence description.',
  'places: towns, buildings, landmarks and other points, each in one of the regions (use the region name exactly).',
  'routes: roads, rivers, paths or other connections between two places (use the place names exactly).',
  'Use only what the document says; do not invent places.',
].join('\n');

/** A document with no letters or digits carries nothing to map. */
const HAS_TEXT = /[\p{L}\p{N}]/u;

/**
 * Map generation (seed 000): parse (split the document into sections; the LLM structures them into
 * regions, places and routes) → layout (deterministic, seeded by the job id) → render (a JSON model
 * and an SVG image) → store (MinIO, `jobs/<id>/map.json` and `map.svg`). Progress 5 → 100.
 */
export class MapGeneration implements JobKind {
  readonly kind = MAP_GENERATION;

  constructor(
    private readonly deps: {
      llm: LlmClient;
      objects: ObjectStore;
      maxDocumentChars: number;
      maxTokens: number;
    },
  ) {}

  async run({ job, signal, progress }: JobAttempt): Promise<MapGenerationResult> {
    const { document, filename } = this.parseInput(job);

    await progress(5, 'parse');
    const sections = splitSections(document);
    await progress(15, 'parse');
    const answer = await this.deps.llm.completeJson({
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: `Document "${filename}":\n\n${sectionsPrompt(sections)}` },
      ],
      schema: MapStructureSchema,
      schemaName: 'map_structure',
      temperature: 0.2,
      maxTokens: this.deps.maxTokens,
      signal,
    });
    signal.throwIfAborted();
    const model = normalizeStructure(answer.value);

    await progress(50, 'layout');
    const layout = layoutMap(model, job.id);

    await progress(70, 'render');
    const json = Buffer.from(renderJson(layout, { jobId: job.id, filename, sections: sections.length }));
    const svg = Buffer.from(renderSvg(layout, `Map of ${filename}`));

    await progress(85, 'store');
    const keys = mapArtifactKeys(job.id);
    signal.throwIfAborted();
    await this.deps.objects.put(keys.json, json, json.length);
    signal.throwIfAborted();
    await this.deps.objects.put(keys.svg, svg, svg.length);

    return {
      artifacts: keys,
      regions: layout.regions.length,
      places: layout.places.length,
      routes: layout.routes.length,
      sections: sections.length,
      dropped: model.dropped,
    };
  }

  private parseInput(job: Job): z.infer<typeof mapGenerationInput> {
    const input = mapGenerationInput.safeParse(job.input);
    if (!input.success) {
      throw new JobRejected(
        'INPUT_INVALID',
        `map_generation input: ${input.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    const { document } = input.data;
    if (document.length > this.deps.maxDocumentChars) {
      throw new JobRejected(
        'DOCUMENT_TOO_LARGE',
        `the document has ${document.length} characters; at most ${this.deps.maxDocumentChars} are accepted`,
      );
    }
    if (!HAS_TEXT.test(document)) throw new JobRejected('DOCUMENT_EMPTY', 'the document has no text to map');
    return input.data;
  }
}
