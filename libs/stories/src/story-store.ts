import { type Sql } from '@fleet/db';

export type EnhancementStatus = 'PENDING' | 'ENHANCED' | 'LLM_UNAVAILABLE' | 'FAILED';

export interface Story {
  id: string;
  ownerId: string;
  title: string;
  content: string;
  sectorTag: string | null;
  impactTags: string[];
  hypeScore: number;
  ethicsScore: number;
  realityCheck: string | null;
  eli5Summary: string | null;
  scoresSource: 'local' | 'llm';
  enhancementStatus: EnhancementStatus;
  enhancementJobId: string | null;
  processingTimeMs: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewStory {
  id: string;
  ownerId: string;
  title: string;
  content: string;
  sectorTag?: string | null;
  impactTags?: readonly string[];
  hypeScore: number;
  ethicsScore: number;
  enhancementJobId?: string | null;
}

/** What the LLM returns for a story (seed 003). */
export interface Enhancement {
  hypeScore: number;
  ethicsScore: number;
  realityCheck: string;
  eli5Summary: string;
}

interface Row {
  id: string;
  owner_id: string;
  title: string;
  content: string;
  sector_tag: string | null;
  impact_tags: string[];
  hype_score: string;
  ethics_score: string;
  reality_check: string | null;
  eli5_summary: string | null;
  scores_source: 'local' | 'llm';
  enhancement_status: EnhancementStatus;
  enhancement_job_id: string | null;
  processing_time_ms: number | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, owner_id, title, content, sector_tag, impact_tags, hype_score, ethics_score, reality_check,
  eli5_summary, scores_source, enhancement_status, enhancement_job_id, processing_time_ms, created_at, updated_at`;

const toStory = (r: Row): Story => ({
  id: r.id,
  ownerId: r.owner_id,
  title: r.title,
  content: r.content,
  sectorTag: r.sector_tag,
  impactTags: r.impact_tags,
  hypeScore: Number(r.hype_score),
  ethicsScore: Number(r.ethics_score),
  realityCheck: r.reality_check,
  eli5Summary: r.eli5_summary,
  scoresSource: r.scores_source,
  enhancementStatus: r.enhancement_status,
  enhancementJobId: r.enhancement_job_id,
  processingTimeMs: r.processing_time_ms,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The SQL of stories: the api creates them (with their enhancement job), `generation` enhances them. */
export class StoryStore {
  async create(sql: Sql, story: NewStory): Promise<Story> {
    const [row] = await sql.rows<Row>(
      `INSERT INTO stories (id, owner_id, title, content, sector_tag, impact_tags, hype_score, ethics_score, enhancement_job_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [
        story.id,
        story.ownerId,
        story.title,
        story.content,
        story.sectorTag ?? null,
        [...(story.impactTags ?? [])],
        story.hypeScore,
        story.ethicsScore,
        story.enhancementJobId ?? null,
      ],
    );
    return toStory(row!);
  }

  async get(sql: Sql, id: string): Promise<Story | undefined> {
    const [row] = await sql.rows<Row>(`SELECT ${COLUMNS} FROM stories WHERE id = $1`, [id]);
    return row ? toStory(row) : undefined;
  }

  /** The LLM's scores replace the local ones; idempotent (the same enhancement twice is the same row). */
  async applyEnhancement(
    sql: Sql,
    id: string,
    enhancement: Enhancement,
    processingTimeMs: number,
  ): Promise<Story | undefined> {
    const [row] = await sql.rows<Row>(
      `UPDATE stories
          SET hype_score = $2, ethics_score = $3, reality_check = $4, eli5_summary = $5,
              scores_source = 'llm', enhancement_status = 'ENHANCED', processing_time_ms = $6, updated_at = now()
        WHERE id = $1
        RETURNING ${COLUMNS}`,
      [
        id,
        Math.round(enhancement.hypeScore * 10) / 10,
        Math.round(enhancement.ethicsScore * 10) / 10,
        enhancement.realityCheck,
        enhancement.eli5Summary,
        Math.round(processingTimeMs),
      ],
    );
    return row ? toStory(row) : undefined;
  }

  /**
   * The enhancement did not happen (`LLM_UNAVAILABLE`: no LLM reachable; `FAILED`: its output was
   * unusable): the story keeps its local scores; never overrides an enhancement already applied.
   */
  async markNotEnhanced(
    sql: Sql,
    id: string,
    status: 'LLM_UNAVAILABLE' | 'FAILED',
    processingTimeMs: number,
  ): Promise<Story | undefined> {
    const [row] = await sql.rows<Row>(
      `UPDATE stories SET enhancement_status = $2, processing_time_ms = $3, updated_at = now()
        WHERE id = $1 AND enhancement_status <> 'ENHANCED'
        RETURNING ${COLUMNS}`,
      [id, status, Math.round(processingTimeMs)],
    );
    return row ? toStory(row) : undefined;
  }
}
