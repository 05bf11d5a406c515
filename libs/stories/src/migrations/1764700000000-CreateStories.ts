import { type MigrationInterface, type QueryRunner } from '@fleet/db';

/** Stories (seed 003): created with local heuristic scores, enhanced by the LLM in a job. */
export class CreateStories1764700000000 implements MigrationInterface {
  name = 'CreateStories1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE stories (
        id                 uuid         PRIMARY KEY,
        owner_id           text         NOT NULL,
        title              text         NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
        content            text         NOT NULL,
        sector_tag         text,
        impact_tags        text[]       NOT NULL DEFAULT '{}',
        hype_score         numeric(3,1) NOT NULL CHECK (hype_score BETWEEN 0 AND 10),
        ethics_score       numeric(3,1) NOT NULL CHECK (ethics_score BETWEEN 0 AND 10),
        reality_check      text,
        eli5_summary       text,
        -- Where the scores come from: the local heuristic until the LLM enhanced them.
        scores_source      text         NOT NULL DEFAULT 'local' CHECK (scores_source IN ('local', 'llm')),
        enhancement_status text         NOT NULL DEFAULT 'PENDING'
                           CHECK (enhancement_status IN ('PENDING', 'ENHANCED', 'LLM_UNAVAILABLE', 'FAILED')),
        enhancement_job_id uuid,
        processing_time_ms integer,
        created_at         timestamptz  NOT NULL DEFAULT now(),
        updated_at         timestamptz  NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX stories_owner ON stories (owner_id, created_at DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE stories');
  }
}
