import { type Sql } from '@fleet/db';

/** A recorded export request: the job it created and the hash of what was asked. */
export interface ExportRequestRecord {
  jobId: string;
  ownerId: string;
  idempotencyKey: string;
  requestSha256: string;
  projectId: string;
}

/** A public key exporters sign with, as GET /v1/exports/keys publishes it. */
export interface PublishedKey {
  keyId: string;
  algorithm: 'Ed25519' | 'ES256';
  jwk: Record<string, unknown>;
  spkiPem: string;
  firstSeen: string;
  lastSeen: string;
}

/** A project's campaign (`campaigns.project_id`). */
export interface ProjectCampaign {
  campaignSeed: string;
  name: string;
}

/** The content of a campaign a bundle carries: pool items as stored (the seed's field names). */
export interface CampaignRows {
  pois: Record<string, unknown>[];
  npcs: Record<string, unknown>[];
  quests: Record<string, unknown>[];
  encounters: Record<string, unknown>[];
  dungeons: Record<string, unknown>[];
}

/** An uploaded file of the project, COMPLETED, to stream into a bundle. */
export interface ProjectAsset {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  objectKey: string;
}

interface RequestRow {
  job_id: string;
  owner_id: string;
  idempotency_key: string;
  request_sha256: string;
  project_id: string;
}
const toRequest = (r: RequestRow): ExportRequestRecord => ({
  jobId: r.job_id,
  ownerId: r.owner_id,
  idempotencyKey: r.idempotency_key,
  requestSha256: r.request_sha256,
  projectId: r.project_id,
});

/**
 * The exports' own rows (migration `CreateExports1765100000000`); the export's status lives in its
 * job. Every method takes the caller's {@link Sql} so it joins the caller's transaction.
 */
export class ExportStore {
  /** The request recorded under the caller's Idempotency-Key, if any. */
  async requestByKey(
    sql: Sql,
    ownerId: string,
    idempotencyKey: string,
  ): Promise<ExportRequestRecord | undefined> {
    const [row] = await sql.rows<RequestRow>(
      `SELECT job_id, owner_id, idempotency_key, request_sha256, project_id
         FROM export_requests WHERE owner_id = $1 AND idempotency_key = $2`,
      [ownerId, idempotencyKey],
    );
    return row ? toRequest(row) : undefined;
  }

  /**
   * Records the request of a job created in the same transaction. A concurrent request with the
   * same key makes this fail with a unique violation (23505): the caller rolls back and reads the
   * winner's with {@link requestByKey}.
   */
  async recordRequest(sql: Sql, request: ExportRequestRecord): Promise<void> {
    await sql.rows(
      `INSERT INTO export_requests (job_id, owner_id, idempotency_key, request_sha256, project_id)
       VALUES ($1, $2, $3, $4, $5)`,
      [request.jobId, request.ownerId, request.idempotencyKey, request.requestSha256, request.projectId],
    );
  }

  /** Whether a receiver already took the callback event `eventId` (see {@link recordCallbackDelivered}). */
  async callbackDelivered(sql: Sql, eventId: string): Promise<boolean> {
    const rows = await sql.rows<{ one: number }>(
      `SELECT 1 AS one FROM export_callback_deliveries WHERE event_id = $1`,
      [eventId],
    );
    return rows.length > 0;
  }

  /** Records that a receiver answered 2xx to the callback event `eventId`; a second record is a no-op. */
  async recordCallbackDelivered(
    sql: Sql,
    delivery: { eventId: string; exportId: string; status: number },
  ): Promise<void> {
    await sql.rows(
      `INSERT INTO export_callback_deliveries (event_id, export_id, status) VALUES ($1, $2, $3)
       ON CONFLICT (event_id) DO NOTHING`,
      [delivery.eventId, delivery.exportId, delivery.status],
    );
  }

  /** An exporter's public key: inserted once, `last_seen` refreshed at every boot. */
  async publishKey(sql: Sql, key: Omit<PublishedKey, 'firstSeen' | 'lastSeen'>): Promise<void> {
    await sql.rows(
      `INSERT INTO export_signing_keys (key_id, algorithm, jwk, spki_pem) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (key_id) DO UPDATE SET last_seen = now()`,
      [key.keyId, key.algorithm, JSON.stringify(key.jwk), key.spkiPem],
    );
  }

  /** Every key ever published, newest first: bundles signed before a rotation still verify. */
  async publishedKeys(sql: Sql): Promise<PublishedKey[]> {
    const rows = await sql.rows<{
      key_id: string;
      algorithm: 'Ed25519' | 'ES256';
      jwk: Record<string, unknown>;
      spki_pem: string;
      first_seen: Date;
      last_seen: Date;
    }>(
      `SELECT key_id, algorithm, jwk, spki_pem, first_seen, last_seen
         FROM export_signing_keys ORDER BY last_seen DESC, key_id`,
    );
    return rows.map((r) => ({
      keyId: r.key_id,
      algorithm: r.algorithm,
      jwk: r.jwk,
      spkiPem: r.spki_pem,
      firstSeen: r.first_seen.toISOString(),
      lastSeen: r.last_seen.toISOString(),
    }));
  }

  /** The project's campaign: the oldest active one linked to it. */
  async projectCampaign(sql: Sql, projectId: string): Promise<ProjectCampaign | undefined> {
    const [row] = await sql.rows<{ campaign_seed: string; name: string }>(
      `SELECT campaign_seed, name FROM campaigns
        WHERE project_id = $1 AND active ORDER BY created_at, campaign_seed LIMIT 1`,
      [projectId],
    );
    return row ? { campaignSeed: row.campaign_seed, name: row.name } : undefined;
  }

  /**
   * A campaign's content: its points of interest (all of them, available or claimed), and the NPCs,
   * encounters and dungeons claimed into it, and the quests claimed with it as their
   * spawn location's `campaign_seed`. Ordered by id so a bundle does not depend on claim order;
   * at most `limit` of each.
   */
  async campaignContent(sql: Sql, campaignSeed: string, limit: number): Promise<CampaignRows> {
    const select = (columns: string, table: string, where: string) =>
      sql.rows<Record<string, unknown>>(
        `SELECT id, ${columns} FROM ${table} WHERE ${where} ORDER BY id LIMIT $2`,
        [campaignSeed, limit],
      );
    const [pois, npcs, quests, encounters, dungeons] = await Promise.all([
      select('name, kind, description, position', 'points_of_interest', 'campaign_seed = $1'),
      select(
        'name, role, personality, traits, speech_style, backstory',
        'npc_personalities',
        'campaign_seed = $1',
      ),
      select(
        'title, description, objectives, level, xp_reward, gold_reward',
        'quest_templates',
        `used AND spawned_at_location->>'campaign_seed' = $1`,
      ),
      select(
        'name, location_type, challenge_rating::float8 AS challenge_rating, enemies, description',
        'combat_encounters',
        'campaign_seed = $1',
      ),
      select(
        'name, description, recommended_level, rooms, encounters, loot',
        'dungeon_content',
        'campaign_seed = $1',
      ),
    ]);
    return { pois, npcs, quests, encounters, dungeons };
  }

  /** The project's COMPLETED uploads of its owner, by filename then id. */
  async projectAssets(sql: Sql, ownerId: string, projectId: string): Promise<ProjectAsset[]> {
    const rows = await sql.rows<{
      id: string;
      filename: string;
      content_type: string;
      size: string;
      sha256: string;
      final_key: string;
    }>(
      `SELECT id, filename, content_type, size, sha256, final_key FROM uploads
        WHERE project_id = $1 AND owner_id = $2 AND status = 'COMPLETED' ORDER BY filename, id`,
      [projectId, ownerId],
    );
    return rows.map((r) => ({
      id: r.id,
      filename: r.filename,
      contentType: r.content_type,
      size: Number(r.size),
      sha256: r.sha256,
      objectKey: r.final_key,
    }));
  }
}
