import { type Sql } from '@fleet/db';
import { GENERATE_JOB_OF, POOL_TABLES, POOLS, type Location, type PoolName } from './pools';
import { type PoolItem, type PoolItems } from './items';
import { poolArgumentErrorOf } from './pool.errors';

/** What one claim did: the item (none when the pool had nothing that fits), what is left, the refill. */
export interface ClaimResult<T> {
  item: (T & { id: string }) | undefined;
  /** Available items of the pool after the claim (of the campaign, for POIs). */
  available: number;
  /** The refill job the claim enqueued or found waiting, when the pool is below its minimum. */
  refillJobId: string | undefined;
}

/** One pool's level, for `GET /v1/pools` and the metrics. */
export interface PoolLevel {
  pool: PoolName;
  /** For POIs, the campaign; undefined for the global pools. */
  campaignSeed: string | undefined;
  available: number;
  claimed: number;
  minSize: number;
  batchSize: number;
  /** Generation jobs of this pool waiting or running. */
  pendingJobs: number;
  runningJobs: number;
}

/** Sizes and settings the pool-filler writes at boot, for the SQL functions and the api. */
export interface PoolSettings {
  sizes: Readonly<Record<PoolName, { minSize: number; batchSize: number }>>;
  /** The (namespaced) topic of pool job requests. */
  requestTopic: string;
  maxJobCount: number;
  maxAttempts: number;
}

export interface Campaign {
  campaignSeed: string;
  name: string;
  active: boolean;
  createdBy: string;
  createdAt: Date;
  /** The map job whose export bundles carry this campaign's content (`campaigns.project_id`). */
  projectId: string | null;
}

/** How storing one generated item went. */
export type InsertOutcome = 'inserted' | 'duplicate' | 'exists';

/** Stored columns of each pool's items, in the order {@link valuesOf} gives them. */
const ITEM_COLUMNS: Readonly<Record<PoolName, readonly string[]>> = {
  quests: ['title', 'description', 'objectives', 'level', 'xp_reward', 'gold_reward'],
  npcs: ['name', 'role', 'personality', 'traits', 'speech_style', 'backstory'],
  encounters: ['name', 'location_type', 'challenge_rating', 'enemies', 'description'],
  dungeons: ['name', 'description', 'recommended_level', 'rooms', 'encounters', 'loot'],
  pois: ['campaign_seed', 'name', 'kind', 'description', 'position'],
};
const JSON_COLUMNS = new Set(['objectives', 'traits', 'enemies', 'rooms', 'encounters', 'loot', 'position']);

function valuesOf(pool: PoolName, item: PoolItem, campaignSeed: string | undefined): unknown[] {
  const record: Record<string, unknown> = {
    ...(item as Record<string, unknown>),
    campaign_seed: campaignSeed,
  };
  return ITEM_COLUMNS[pool].map((column) =>
    JSON_COLUMNS.has(column) ? JSON.stringify(record[column]) : record[column],
  );
}

/**
 * The SQL of the content pools: claims (through the `pool_claim_*` functions of the migration, one
 * statement each), levels, campaigns, storing generated items, and the settings the pool-filler
 * publishes at boot. Works in or out of a transaction (`Sql`).
 */
export class PoolStore {
  /** Writes the pool-filler's configuration where the SQL functions and the api read it. */
  async applySettings(sql: Sql, settings: PoolSettings): Promise<void> {
    const pools = POOLS.filter((pool) => settings.sizes[pool]);
    await sql.rows(
      `WITH sizes AS (
         INSERT INTO pool_settings (pool, min_size, batch_size)
         SELECT * FROM unnest($1::text[], $2::int[], $3::int[])
         ON CONFLICT (pool) DO UPDATE SET min_size = EXCLUDED.min_size, batch_size = EXCLUDED.batch_size,
                                          updated_at = now()
         RETURNING pool)
       INSERT INTO worker_job_settings (key, value)
       VALUES ('request_topic', $4), ('max_job_count', $5), ('max_attempts', $6)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [
        pools,
        pools.map((p) => settings.sizes[p].minSize),
        pools.map((p) => settings.sizes[p].batchSize),
        settings.requestTopic,
        String(settings.maxJobCount),
        String(settings.maxAttempts),
      ],
    );
  }

  async sizes(sql: Sql): Promise<Record<PoolName, { minSize: number; batchSize: number }>> {
    const rows = await sql.rows<{ pool: PoolName; min_size: number; batch_size: number }>(
      'SELECT pool, min_size, batch_size FROM pool_settings',
    );
    return Object.fromEntries(
      rows.map((r) => [r.pool, { minSize: r.min_size, batchSize: r.batch_size }]),
    ) as Record<PoolName, { minSize: number; batchSize: number }>;
  }

  /**
   * Every pool's level: the four global pools and the POI pool of each active campaign, with their
   * sizes and the generation jobs waiting or running for each (by the jobs' input).
   */
  async levels(sql: Sql): Promise<PoolLevel[]> {
    const rows = await sql.rows<{
      pool: PoolName;
      campaign_seed: string | null;
      available: string;
      claimed: string;
      min_size: number;
      batch_size: number;
      pending: string;
      running: string;
    }>(
      `WITH counts AS (
         SELECT 'quests' AS pool, NULL::text AS campaign_seed, count(*) FILTER (WHERE NOT used) AS available,
                count(*) FILTER (WHERE used) AS claimed FROM quest_templates
         UNION ALL SELECT 'npcs', NULL, count(*) FILTER (WHERE NOT used), count(*) FILTER (WHERE used) FROM npc_personalities
         UNION ALL SELECT 'encounters', NULL, count(*) FILTER (WHERE NOT used), count(*) FILTER (WHERE used) FROM combat_encounters
         UNION ALL SELECT 'dungeons', NULL, count(*) FILTER (WHERE NOT used), count(*) FILTER (WHERE used) FROM dungeon_content
         UNION ALL SELECT 'pois', c.campaign_seed, count(p.id) FILTER (WHERE NOT p.used), count(p.id) FILTER (WHERE p.used)
           FROM campaigns c LEFT JOIN points_of_interest p ON p.campaign_seed = c.campaign_seed
          WHERE c.active GROUP BY c.campaign_seed),
       active AS (
         SELECT kind, input ->> 'campaign_seed' AS campaign_seed,
                count(*) FILTER (WHERE status = 'PENDING') AS pending,
                count(*) FILTER (WHERE status = 'PROCESSING') AS running
           FROM jobs WHERE status IN ('PENDING', 'PROCESSING') AND kind = ANY($1::text[])
          GROUP BY 1, 2)
       SELECT c.pool, c.campaign_seed, c.available, c.claimed, s.min_size, s.batch_size,
              COALESCE(a.pending, 0) AS pending, COALESCE(a.running, 0) AS running
         FROM counts c JOIN pool_settings s ON s.pool = c.pool
         LEFT JOIN active a ON a.kind = 'generate_' || c.pool AND a.campaign_seed IS NOT DISTINCT FROM c.campaign_seed
        ORDER BY array_position($2::text[], c.pool), c.campaign_seed`,
      [Object.values(GENERATE_JOB_OF), [...POOLS]],
    );
    return rows.map((r) => ({
      pool: r.pool,
      campaignSeed: r.campaign_seed ?? undefined,
      available: Number(r.available),
      claimed: Number(r.claimed),
      minSize: r.min_size,
      batchSize: r.batch_size,
      pendingJobs: Number(r.pending),
      runningJobs: Number(r.running),
    }));
  }

  /**
   * Enqueues the refill of a pool that is below its minimum (one job of a batch, at most one per
   * pool waiting or running), as the claims do. @returns the job id (new, or the one already
   * active), or undefined when the pool is full enough.
   */
  async refillIfLow(
    sql: Sql,
    pool: PoolName,
    available: number,
    campaignSeed?: string,
    traceparent?: string,
  ): Promise<string | undefined> {
    const [row] = await sql.rows<{ id: string | null }>('SELECT pool_refill_if_low($1, $2, $3, $4) AS id', [
      pool,
      available,
      campaignSeed ?? null,
      traceparent ?? null,
    ]);
    return row?.id ?? undefined;
  }

  /**
   * `enqueue_worker_job`: validates in the database and enqueues.
   * @throws {@link PoolArgumentError} naming the refused argument; nothing written.
   */
  async enqueueJob(
    sql: Sql,
    job: { kind: string; params: unknown; priority: number; ownerId: string; traceparent?: string },
  ): Promise<string> {
    const [row] = await checked(sql).rows<{ id: string }>(
      'SELECT enqueue_worker_job($1, $2::jsonb, $3, $4, $5) AS id',
      [
        job.kind,
        job.params === undefined || job.params === null ? null : JSON.stringify(job.params),
        job.priority,
        job.ownerId,
        job.traceparent ?? null,
      ],
    );
    return row!.id;
  }

  /** Available items of a pool (of one campaign for POIs). */
  async available(sql: Sql, pool: PoolName, campaignSeed?: string): Promise<number> {
    const table = POOL_TABLES[pool];
    const [row] = await sql.rows<{ n: string }>(
      pool === 'pois'
        ? `SELECT count(*) AS n FROM ${table} WHERE NOT used AND campaign_seed = $1`
        : `SELECT count(*) AS n FROM ${table} WHERE NOT used`,
      pool === 'pois' ? [campaignSeed ?? null] : [],
    );
    return Number(row!.n);
  }

  /** Item indexes a job has stored so far (a retried job makes only the others). */
  async indexesOfJob(sql: Sql, pool: PoolName, jobId: string): Promise<number[]> {
    const rows = await sql.rows<{ item_index: number }>(
      `SELECT item_index FROM ${POOL_TABLES[pool]} WHERE job_id = $1 ORDER BY item_index`,
      [jobId],
    );
    return rows.map((r) => r.item_index);
  }

  /** Normalized titles available in a pool, for the prompt ("do not repeat these"). */
  async availableTitles(sql: Sql, pool: PoolName, campaignSeed?: string, limit = 200): Promise<string[]> {
    const rows = await sql.rows<{ title: string }>(
      pool === 'pois'
        ? `SELECT name AS title FROM points_of_interest WHERE NOT used AND campaign_seed = $1 ORDER BY created_at DESC LIMIT $2`
        : `SELECT ${pool === 'quests' ? 'title' : 'name'} AS title FROM ${POOL_TABLES[pool]} WHERE NOT used
            ORDER BY created_at DESC LIMIT $1`,
      pool === 'pois' ? [campaignSeed ?? null, limit] : [limit],
    );
    return rows.map((r) => r.title);
  }

  /**
   * Stores one generated item under its job and index. `exists`: this job already stored this
   * index (a repeated attempt); `duplicate`: an available item of the pool has the same normalized
   * title — nothing stored, the caller generates another.
   */
  async insertItem<P extends PoolName>(
    sql: Sql,
    pool: P,
    item: PoolItems[P],
    meta: { jobId: string; itemIndex: number; model: string; campaignSeed?: string },
  ): Promise<InsertOutcome> {
    const columns = ITEM_COLUMNS[pool];
    const values = valuesOf(pool, item, meta.campaignSeed);
    const n = values.length;
    const placeholders = columns.map((c, i) => (JSON_COLUMNS.has(c) ? `$${i + 1}::jsonb` : `$${i + 1}`));
    const inserted = await sql.rows<{ id: string }>(
      `INSERT INTO ${POOL_TABLES[pool]} (${columns.join(', ')}, job_id, item_index, model)
       VALUES (${placeholders.join(', ')}, $${n + 1}, $${n + 2}, $${n + 3})
       ON CONFLICT DO NOTHING RETURNING id`,
      [...values, meta.jobId, meta.itemIndex, meta.model],
    );
    if (inserted.length > 0) return 'inserted';
    const [existing] = await sql.rows(
      `SELECT 1 FROM ${POOL_TABLES[pool]} WHERE job_id = $1 AND item_index = $2`,
      [meta.jobId, meta.itemIndex],
    );
    return existing ? 'exists' : 'duplicate';
  }

  async claimQuest(
    sql: Sql,
    claim: {
      characterId: string;
      minLevel: number;
      maxLevel: number;
      location?: Location;
      traceparent?: string;
    },
  ): Promise<ClaimResult<PoolItems['quests']>> {
    const [row] = await checked(sql).rows<Record<string, unknown>>(
      'SELECT * FROM pool_claim_quest($1, $2, $3, $4::jsonb, $5)',
      [
        claim.characterId,
        claim.minLevel,
        claim.maxLevel,
        jsonOrNull(claim.location),
        claim.traceparent ?? null,
      ],
      'pool_claim_quest',
    );
    return claimResult(row!, 'quest_id', (r) => ({
      title: r.title as string,
      description: r.description as string,
      objectives: r.objectives as PoolItems['quests']['objectives'],
      level: r.level as number,
      xp_reward: r.xp_reward as number,
      gold_reward: r.gold_reward as number,
    }));
  }

  async claimNpc(
    sql: Sql,
    claim: { campaignSeed: string; location?: Location; claimedBy?: string; traceparent?: string },
  ): Promise<ClaimResult<PoolItems['npcs']>> {
    const [row] = await checked(sql).rows<Record<string, unknown>>(
      'SELECT * FROM pool_claim_npc($1, $2::jsonb, $3, $4)',
      [claim.campaignSeed, jsonOrNull(claim.location), claim.claimedBy ?? null, claim.traceparent ?? null],
      'pool_claim_npc',
    );
    return claimResult(row!, 'npc_id', (r) => ({
      name: r.name as string,
      role: r.role as string,
      personality: r.personality as string,
      traits: r.traits as string[],
      speech_style: r.speech_style as string,
      backstory: r.backstory as string,
    }));
  }

  async claimEncounter(
    sql: Sql,
    claim: {
      locationType: string;
      playerLevel: number;
      claimedBy: string;
      campaignSeed?: string;
      location?: Location;
      traceparent?: string;
    },
  ): Promise<ClaimResult<PoolItems['encounters']>> {
    const [row] = await checked(sql).rows<Record<string, unknown>>(
      'SELECT * FROM pool_claim_encounter($1, $2, $3, $4, $5::jsonb, $6)',
      [
        claim.locationType,
        claim.playerLevel,
        claim.claimedBy,
        claim.campaignSeed ?? null,
        jsonOrNull(claim.location),
        claim.traceparent ?? null,
      ],
      'pool_claim_encounter',
    );
    return claimResult(row!, 'encounter_id', (r) => ({
      name: r.name as string,
      location_type: r.location_type as PoolItems['encounters']['location_type'],
      challenge_rating: Number(r.challenge_rating),
      enemies: r.enemies as PoolItems['encounters']['enemies'],
      description: r.description as string,
    }));
  }

  async claimDungeon(
    sql: Sql,
    claim: { claimedBy: string; campaignSeed?: string; location?: Location; traceparent?: string },
  ): Promise<ClaimResult<PoolItems['dungeons']>> {
    const [row] = await checked(sql).rows<Record<string, unknown>>(
      'SELECT * FROM pool_claim_dungeon($1, $2, $3::jsonb, $4)',
      [claim.claimedBy, claim.campaignSeed ?? null, jsonOrNull(claim.location), claim.traceparent ?? null],
      'pool_claim_dungeon',
    );
    return claimResult(row!, 'dungeon_id', (r) => ({
      name: r.name as string,
      description: r.description as string,
      recommended_level: r.recommended_level as number,
      rooms: r.rooms as PoolItems['dungeons']['rooms'],
      encounters: r.encounters as PoolItems['dungeons']['encounters'],
      loot: r.loot as PoolItems['dungeons']['loot'],
    }));
  }

  async claimPoi(
    sql: Sql,
    claim: { campaignSeed: string; claimedBy: string; traceparent?: string },
  ): Promise<ClaimResult<PoolItems['pois']>> {
    const [row] = await checked(sql).rows<Record<string, unknown>>(
      'SELECT * FROM pool_claim_poi($1, $2, $3)',
      [claim.campaignSeed, claim.claimedBy, claim.traceparent ?? null],
    );
    return claimResult(row!, 'poi_id', (r) => ({
      name: r.name as string,
      kind: r.kind as PoolItems['pois']['kind'],
      description: r.description as string,
      position: r.position as Location,
    }));
  }

  async createCampaign(
    sql: Sql,
    campaign: { campaignSeed: string; name: string; createdBy: string; projectId?: string | null },
  ): Promise<{ campaign: Campaign; created: boolean }> {
    // project_id is the exports' column (their migration adds it): named only when set.
    const project = campaign.projectId ? ', project_id' : '';
    const inserted = await sql.rows<CampaignRow>(
      `INSERT INTO campaigns (campaign_seed, name, created_by${project}) VALUES ($1, $2, $3${project ? ', $4' : ''})
       ON CONFLICT (campaign_seed) DO NOTHING RETURNING *`,
      [
        campaign.campaignSeed,
        campaign.name,
        campaign.createdBy,
        ...(campaign.projectId ? [campaign.projectId] : []),
      ],
    );
    if (inserted[0]) return { campaign: toCampaign(inserted[0]), created: true };
    const existing = await this.campaign(sql, campaign.campaignSeed);
    return { campaign: existing!, created: false };
  }

  async campaign(sql: Sql, campaignSeed: string): Promise<Campaign | undefined> {
    const [row] = await sql.rows<CampaignRow>(
      'SELECT * FROM campaigns WHERE campaign_seed = $1',
      [campaignSeed],
      'pool_claim_poi',
    );
    return row ? toCampaign(row) : undefined;
  }

  async activeCampaigns(sql: Sql): Promise<Campaign[]> {
    const rows = await sql.rows<CampaignRow>('SELECT * FROM campaigns WHERE active ORDER BY campaign_seed');
    return rows.map(toCampaign);
  }

  /** A character's last `count` chat messages (the fleet's own conversations), oldest first. */
  async recentMessages(
    sql: Sql,
    characterId: string,
    count: number,
  ): Promise<Array<{ text: string; createdAt: Date; conversationId: string }>> {
    const rows = await sql.rows<{ text: string; created_at: Date; conversation_id: string }>(
      `SELECT text, created_at, conversation_id FROM
         (SELECT text, created_at, conversation_id FROM messages WHERE sender_id = $1
           ORDER BY created_at DESC LIMIT $2) m
        ORDER BY created_at`,
      [characterId, count],
    );
    return rows.map((r) => ({ text: r.text, createdAt: r.created_at, conversationId: r.conversation_id }));
  }

  /** Stores a session summary once per job (a repeated attempt keeps the first). */
  async saveSummary(
    sql: Sql,
    summary: {
      jobId: string;
      characterId: string;
      messageCount: number;
      firstMessageAt: Date | undefined;
      lastMessageAt: Date | undefined;
      summary: string;
      keyEvents: string[];
      model: string;
    },
  ): Promise<string> {
    const [row] = await sql.rows<{ id: string }>(
      `WITH ins AS (
         INSERT INTO session_summaries (character_id, job_id, message_count, first_message_at, last_message_at,
                                        summary, key_events, model)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) ON CONFLICT (job_id) DO NOTHING RETURNING id)
       SELECT id FROM ins UNION ALL SELECT id FROM session_summaries WHERE job_id = $2 LIMIT 1`,
      [
        summary.characterId,
        summary.jobId,
        summary.messageCount,
        summary.firstMessageAt ?? null,
        summary.lastMessageAt ?? null,
        summary.summary,
        JSON.stringify(summary.keyEvents),
        summary.model,
      ],
    );
    return row!.id;
  }
}

interface CampaignRow {
  campaign_seed: string;
  name: string;
  active: boolean;
  created_by: string;
  created_at: Date;
  project_id?: string | null;
}

const toCampaign = (r: CampaignRow): Campaign => ({
  campaignSeed: r.campaign_seed,
  name: r.name,
  active: r.active,
  createdBy: r.created_by,
  createdAt: r.created_at,
  projectId: r.project_id ?? null,
});

/** `sql` whose statements fail with a {@link PoolArgumentError} when the SQL functions refuse an argument. */
function checked(sql: Sql): Sql {
  return {
    async rows<T>(text: string, values?: readonly unknown[], name?: string): Promise<T[]> {
      try {
        return await sql.rows<T>(text, values, name);
      } catch (error) {
        throw poolArgumentErrorOf(error) ?? error;
      }
    },
  };
}

const jsonOrNull = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

function claimResult<T>(
  row: Record<string, unknown>,
  idColumn: string,
  item: (row: Record<string, unknown>) => T,
): ClaimResult<T> {
  const id = row[idColumn] as string | null;
  return {
    item: id ? { id, ...item(row) } : undefined,
    available: Number(row.available),
    refillJobId: (row.refill_job_id as string | null) ?? undefined,
  };
}
