import { type MigrationInterface, type QueryRunner } from '@fleet/db';
import { POOL_DEFAULTS, POOLS } from '../pools';

/** One pool item's bookkeeping, the same in every pool table. */
const ITEM_COLUMNS = `
  used                boolean     NOT NULL DEFAULT false,
  used_at             timestamptz,
  -- Who claimed it: a character, a player, a game server (the claim's caller).
  claimed_by          text,
  -- The seed's spawned_at_location: where the claimer put it ({x, y[, campaign_seed]}).
  spawned_at_location jsonb,
  -- The job and the position in it that made the item: a retried job makes only what is missing.
  job_id              uuid        NOT NULL,
  item_index          integer     NOT NULL CHECK (item_index >= 0),
  model               text        NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (used = (used_at IS NOT NULL)),
  CHECK (used = (claimed_by IS NOT NULL)),
  UNIQUE (job_id, item_index)`;

/** Lower case, punctuation folded to single spaces: "The Goblin Menace!" = "the goblin menace". */
const normalized = (column: string) =>
  `text NOT NULL GENERATED ALWAYS AS (btrim(regexp_replace(lower(${column}), '[^[:alnum:]]+', ' ', 'g'))) STORED`;

/**
 * Content pools (seed 001): the five pool tables, campaigns, the pools' sizes, and the seed's SQL
 * interface — `enqueue_worker_job`, `schedule_pool_check`, `claim_quest_from_pool`,
 * `claim_npc_from_pool` — plus one claim function per pool (`pool_claim_*`) that the api calls.
 *
 * Every function that creates a job writes the `jobs` row and its `outbox_events` row in the same
 * transaction (the caller's, or the statement's own), exactly as `JobStore.create` does, so a job
 * exists if and only if its request reaches the `pool-filler`. Claims take one available item with
 * `FOR UPDATE SKIP LOCKED` (two claimers never get the same item and never wait for each other) and,
 * when the pool is left below its minimum, enqueue its refill (at most one per pool: `dedup_key`).
 *
 * Bad arguments raise SQLSTATE 22023 (invalid_parameter_value) with the argument's name as the
 * error's COLUMN field and in the message; nothing is written.
 */
export class CreatePools1765000000000 implements MigrationInterface {
  name = 'CreatePools1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    const pools = POOLS.map((p) => `'${p}'`).join(', ');

    await q(`
      CREATE TABLE campaigns (
        campaign_seed text        PRIMARY KEY CHECK (campaign_seed ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
        name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        -- check_all_pools keeps the POI pool of every active campaign full.
        active        boolean     NOT NULL DEFAULT true,
        created_by    text        NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);

    // Sizes live in the database so that the claim functions (called by the api and from psql)
    // and the pool-filler agree; the pool-filler writes its configured values at boot.
    await q(`
      CREATE TABLE pool_settings (
        pool       text        PRIMARY KEY CHECK (pool IN (${pools})),
        min_size   integer     NOT NULL CHECK (min_size >= 0),
        batch_size integer     NOT NULL CHECK (batch_size >= 1),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    for (const pool of POOLS) {
      const { minSize, batchSize } = POOL_DEFAULTS[pool];
      await q(
        `INSERT INTO pool_settings (pool, min_size, batch_size) VALUES ('${pool}', ${minSize}, ${batchSize})`,
      );
    }
    // request_topic (namespaced), max_job_count, max_attempts: written by the pool-filler at boot.
    await q(`
      CREATE TABLE worker_job_settings (
        key        text        PRIMARY KEY CHECK (key IN ('request_topic', 'max_job_count', 'max_attempts')),
        value      text        NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q(`
      CREATE TABLE quest_templates (
        id               uuid    PRIMARY KEY DEFAULT gen_random_uuid(),
        title            text    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
        normalized_title ${normalized('title')},
        description      text    NOT NULL,
        objectives       jsonb   NOT NULL CHECK (jsonb_typeof(objectives) = 'array'),
        level            integer NOT NULL CHECK (level BETWEEN 1 AND 20),
        xp_reward        integer NOT NULL CHECK (xp_reward >= 0),
        gold_reward      integer NOT NULL CHECK (gold_reward >= 0),
        ${ITEM_COLUMNS}
      )`);
    await q(`
      CREATE TABLE npc_personalities (
        id               uuid    PRIMARY KEY DEFAULT gen_random_uuid(),
        name             text    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        normalized_title ${normalized('name')},
        role             text    NOT NULL,
        personality      text    NOT NULL,
        traits           jsonb   NOT NULL CHECK (jsonb_typeof(traits) = 'array'),
        speech_style     text    NOT NULL,
        backstory        text    NOT NULL,
        -- The campaign it was claimed into.
        campaign_seed    text    REFERENCES campaigns (campaign_seed),
        ${ITEM_COLUMNS}
      )`);
    await q(`
      CREATE TABLE combat_encounters (
        id               uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
        name             text         NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        normalized_title ${normalized('name')},
        location_type    text         NOT NULL,
        challenge_rating numeric(5,2) NOT NULL CHECK (challenge_rating BETWEEN 0 AND 30),
        enemies          jsonb        NOT NULL CHECK (jsonb_typeof(enemies) = 'array'),
        description      text         NOT NULL,
        campaign_seed    text         REFERENCES campaigns (campaign_seed),
        ${ITEM_COLUMNS}
      )`);
    await q(`
      CREATE TABLE dungeon_content (
        id                uuid    PRIMARY KEY DEFAULT gen_random_uuid(),
        name              text    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        normalized_title  ${normalized('name')},
        description       text    NOT NULL,
        recommended_level integer NOT NULL CHECK (recommended_level BETWEEN 1 AND 20),
        rooms             jsonb   NOT NULL CHECK (jsonb_typeof(rooms) = 'array'),
        encounters        jsonb   NOT NULL CHECK (jsonb_typeof(encounters) = 'array'),
        loot              jsonb   NOT NULL CHECK (jsonb_typeof(loot) = 'array'),
        campaign_seed     text    REFERENCES campaigns (campaign_seed),
        ${ITEM_COLUMNS}
      )`);
    await q(`
      CREATE TABLE points_of_interest (
        id               uuid  PRIMARY KEY DEFAULT gen_random_uuid(),
        campaign_seed    text  NOT NULL REFERENCES campaigns (campaign_seed),
        name             text  NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        normalized_title ${normalized('name')},
        kind             text  NOT NULL,
        description      text  NOT NULL,
        position         jsonb NOT NULL CHECK (jsonb_typeof(position) = 'object'),
        ${ITEM_COLUMNS}
      )`);

    // Duplicates: one available item per normalized title in a pool (per campaign for POIs). A
    // claimed item leaves the pool, so its title may come back later.
    for (const table of ['quest_templates', 'npc_personalities', 'combat_encounters', 'dungeon_content']) {
      await q(`CREATE UNIQUE INDEX ${table}_available_title ON ${table} (normalized_title) WHERE NOT used`);
    }
    await q(
      `CREATE UNIQUE INDEX points_of_interest_available_title ON points_of_interest (campaign_seed, normalized_title) WHERE NOT used`,
    );
    // What the claims search: available items only, so the indexes stay the size of the pools.
    await q(`CREATE INDEX quest_templates_claim ON quest_templates (level, created_at) WHERE NOT used`);
    await q(`CREATE INDEX npc_personalities_claim ON npc_personalities (created_at) WHERE NOT used`);
    await q(
      `CREATE INDEX combat_encounters_claim ON combat_encounters (location_type, challenge_rating) WHERE NOT used`,
    );
    await q(`CREATE INDEX dungeon_content_claim ON dungeon_content (created_at) WHERE NOT used`);
    await q(
      `CREATE INDEX points_of_interest_claim ON points_of_interest (campaign_seed, created_at) WHERE NOT used`,
    );

    await q(`
      CREATE FUNCTION pool_invalid(p_field text, p_message text) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '%: %', p_field, p_message USING ERRCODE = '22023', COLUMN = p_field;
      END $$`);

    // A job row and its request in the outbox, as JobStore.create writes them. With a dedup key and
    // a job of that key already waiting or running, nothing is written and that job's id returned.
    await q(`
      CREATE FUNCTION pool_enqueue_job(p_kind text, p_input jsonb, p_seed_priority integer, p_owner text,
                                       p_dedup_key text, p_traceparent text) RETURNS uuid
      LANGUAGE plpgsql AS $$
      DECLARE
        v_id       uuid := gen_random_uuid();
        v_created  timestamptz;
        v_topic    text := COALESCE((SELECT value FROM worker_job_settings WHERE key = 'request_topic'),
                                    'pool.job.requested.1');
        v_attempts integer := COALESCE((SELECT value::integer FROM worker_job_settings WHERE key = 'max_attempts'), 3);
        v_headers  jsonb := jsonb_build_object('x-event-type', 'job.requested');
      BEGIN
        INSERT INTO jobs (id, kind, owner_id, priority, max_attempts, input, dedup_key)
        VALUES (v_id, p_kind, p_owner, 11 - p_seed_priority, v_attempts, p_input, p_dedup_key)
        ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND status IN ('PENDING', 'PROCESSING') DO NOTHING
        RETURNING created_at INTO v_created;
        IF v_created IS NULL THEN
          SELECT id INTO v_id FROM jobs WHERE dedup_key = p_dedup_key AND status IN ('PENDING', 'PROCESSING');
          RETURN v_id;
        END IF;
        IF p_traceparent IS NOT NULL AND p_traceparent <> '' THEN
          v_headers := v_headers || jsonb_build_object('traceparent', p_traceparent);
        END IF;
        INSERT INTO outbox_events (id, aggregate_type, aggregate_key, event_type, topic, payload, headers)
        VALUES (gen_random_uuid(), 'job', v_id::text, 'job.requested', v_topic,
                jsonb_build_object('jobId', v_id, 'kind', p_kind, 'requestedAt',
                                   to_char(v_created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
                v_headers);
        RETURN v_id;
      END $$`);

    await q(`
      CREATE FUNCTION pool_check_int(p jsonb, p_key text, p_lo numeric, p_hi numeric) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        -- Computed before the IF: PL/pgSQL ends an IF's condition at its first THEN, a CASE's included.
        v_bad boolean := CASE WHEN jsonb_typeof(p -> p_key) = 'number'
                              THEN (p ->> p_key)::numeric % 1 <> 0 OR (p ->> p_key)::numeric NOT BETWEEN p_lo AND p_hi
                              ELSE true END;
      BEGIN
        IF v_bad THEN
          PERFORM pool_invalid('params.' || p_key, format('expected an integer from %s to %s, got %s', p_lo, p_hi,
                                                          COALESCE((p -> p_key)::text, 'nothing')));
        END IF;
      END $$`);
    await q(`
      CREATE FUNCTION pool_check_range(p jsonb, p_key text, p_lo numeric, p_hi numeric, p_integer boolean) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE v jsonb := p -> p_key;
      BEGIN
        IF jsonb_typeof(v) IS DISTINCT FROM 'array' OR jsonb_array_length(v) <> 2
           OR jsonb_typeof(v -> 0) <> 'number' OR jsonb_typeof(v -> 1) <> 'number' THEN
          PERFORM pool_invalid('params.' || p_key, format('expected [low, high], got %s', COALESCE(v::text, 'nothing')));
        END IF;
        IF (v ->> 0)::numeric NOT BETWEEN p_lo AND p_hi OR (v ->> 1)::numeric NOT BETWEEN p_lo AND p_hi
           OR (p_integer AND ((v ->> 0)::numeric % 1 <> 0 OR (v ->> 1)::numeric % 1 <> 0)) THEN
          PERFORM pool_invalid('params.' || p_key, format('expected %s from %s to %s, got %s',
                               CASE WHEN p_integer THEN 'integers' ELSE 'numbers' END, p_lo, p_hi, v));
        END IF;
        IF (v ->> 0)::numeric > (v ->> 1)::numeric THEN
          PERFORM pool_invalid('params.' || p_key, format('the range %s is inverted (low > high)', v));
        END IF;
      END $$`);
    await q(`
      CREATE FUNCTION pool_check_campaign(p_seed text, p_field text) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF p_seed IS NULL OR NOT EXISTS (SELECT 1 FROM campaigns WHERE campaign_seed = p_seed) THEN
          PERFORM pool_invalid(p_field, format('unknown campaign %s', COALESCE(quote_literal(p_seed), 'NULL')));
        END IF;
      END $$`);
    await q(`
      CREATE FUNCTION pool_check_text(p_value text, p_field text) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF p_value IS NULL OR p_value !~ '^[\\x21-\\x7e]{1,200}$' THEN
          PERFORM pool_invalid(p_field, 'expected 1–200 printable characters without spaces');
        END IF;
      END $$`);
    await q(`
      CREATE FUNCTION pool_check_location(p_location jsonb, p_field text) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF p_location IS NULL THEN RETURN; END IF;
        IF jsonb_typeof(p_location) IS DISTINCT FROM 'object'
           OR jsonb_typeof(p_location -> 'x') IS DISTINCT FROM 'number'
           OR jsonb_typeof(p_location -> 'y') IS DISTINCT FROM 'number' THEN
          PERFORM pool_invalid(p_field, format('expected {"x": number, "y": number}, got %s', p_location));
        END IF;
      END $$`);
    await q(`
      CREATE FUNCTION pool_check_level_range(p_min integer, p_max integer) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF p_min IS NULL OR p_min NOT BETWEEN 1 AND 20 THEN PERFORM pool_invalid('min_level', 'expected 1 to 20'); END IF;
        IF p_max IS NULL OR p_max NOT BETWEEN 1 AND 20 THEN PERFORM pool_invalid('max_level', 'expected 1 to 20'); END IF;
        IF p_min > p_max THEN
          PERFORM pool_invalid('max_level', format('the level range %s–%s is inverted', p_min, p_max));
        END IF;
      END $$`);

    // The same rules as poolJobInputSchemas in TypeScript; returns the params to store.
    await q(`
      CREATE FUNCTION pool_check_job_input(p_kind text, p_params jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
      DECLARE
        v_max     integer := COALESCE((SELECT value::integer FROM worker_job_settings WHERE key = 'max_job_count'), 100);
        v_p       jsonb := COALESCE(p_params, '{}'::jsonb);
        v_allowed text[];
        v_key     text;
      BEGIN
        v_allowed := CASE p_kind
          WHEN 'check_all_pools' THEN ARRAY[]::text[]
          WHEN 'generate_quests' THEN ARRAY['count', 'level_range']
          WHEN 'generate_npcs' THEN ARRAY['count']
          WHEN 'generate_encounters' THEN ARRAY['count', 'cr_range']
          WHEN 'generate_dungeons' THEN ARRAY['count']
          WHEN 'generate_pois' THEN ARRAY['campaign_seed', 'count']
          WHEN 'summarize_session' THEN ARRAY['character_id', 'message_count']
        END;
        IF v_allowed IS NULL THEN
          PERFORM pool_invalid('job_type', format('unknown job type %s; expected one of check_all_pools, generate_quests, '
            'generate_npcs, generate_encounters, generate_dungeons, generate_pois, summarize_session',
            COALESCE(quote_literal(p_kind), 'NULL')));
        END IF;
        IF jsonb_typeof(v_p) <> 'object' THEN PERFORM pool_invalid('params', 'expected a JSON object'); END IF;
        FOR v_key IN SELECT jsonb_object_keys(v_p) LOOP
          IF NOT v_key = ANY (v_allowed) THEN
            PERFORM pool_invalid('params.' || v_key, format('not a parameter of %s', p_kind));
          END IF;
        END LOOP;
        IF 'count' = ANY (v_allowed) THEN PERFORM pool_check_int(v_p, 'count', 1, v_max); END IF;
        IF v_p ? 'level_range' THEN PERFORM pool_check_range(v_p, 'level_range', 1, 20, true); END IF;
        IF v_p ? 'cr_range' THEN PERFORM pool_check_range(v_p, 'cr_range', 0, 30, false); END IF;
        IF p_kind = 'generate_pois' THEN
          IF jsonb_typeof(v_p -> 'campaign_seed') IS DISTINCT FROM 'string' THEN
            PERFORM pool_invalid('params.campaign_seed', 'required: the campaign''s seed');
          END IF;
          PERFORM pool_check_campaign(v_p ->> 'campaign_seed', 'params.campaign_seed');
        END IF;
        IF p_kind = 'summarize_session' THEN
          IF jsonb_typeof(v_p -> 'character_id') IS DISTINCT FROM 'string' THEN
            PERFORM pool_invalid('params.character_id', 'required: the character whose session to summarize');
          END IF;
          PERFORM pool_check_text(v_p ->> 'character_id', 'params.character_id');
          PERFORM pool_check_int(v_p, 'message_count', 1, 500);
        END IF;
        RETURN v_p;
      END $$`);

    // The seed's interface: SELECT enqueue_worker_job('generate_npcs', '{"count": 15}', 5);
    await q(`
      CREATE FUNCTION enqueue_worker_job(job_type text, params jsonb DEFAULT NULL, priority integer DEFAULT 5,
                                         p_owner text DEFAULT 'system:sql', p_traceparent text DEFAULT NULL)
      RETURNS uuid
      LANGUAGE plpgsql AS $$
      DECLARE v_params jsonb;
      BEGIN
        IF priority IS NULL OR priority NOT BETWEEN 1 AND 10 THEN
          PERFORM pool_invalid('priority', format('expected 1 (highest) to 10 (lowest), got %s', COALESCE(priority::text, 'NULL')));
        END IF;
        v_params := pool_check_job_input(job_type, params);
        -- A check waiting already covers this one: checks are never queued twice.
        PERFORM pool_check_text(p_owner, 'owner');
        RETURN pool_enqueue_job(job_type, v_params, priority, p_owner,
                                CASE WHEN job_type = 'check_all_pools' THEN 'pool:check' END, p_traceparent);
      END $$`);
    await q(`
      CREATE FUNCTION schedule_pool_check() RETURNS uuid LANGUAGE sql AS $$
        SELECT enqueue_worker_job('check_all_pools', NULL, 1)
      $$`);

    // Below its minimum after a claim (or empty for the claimer): one refill, deduplicated.
    await q(`
      CREATE FUNCTION pool_refill_if_low(p_pool text, p_available bigint, p_campaign text, p_traceparent text)
      RETURNS uuid LANGUAGE plpgsql AS $$
      DECLARE s pool_settings%ROWTYPE;
      BEGIN
        SELECT * INTO s FROM pool_settings WHERE pool = p_pool;
        IF p_available >= s.min_size THEN RETURN NULL; END IF;
        RETURN pool_enqueue_job('generate_' || p_pool,
          CASE WHEN p_pool = 'pois' THEN jsonb_build_object('campaign_seed', p_campaign, 'count', s.batch_size)
               ELSE jsonb_build_object('count', s.batch_size) END,
          5, 'system:pool-refill',
          CASE WHEN p_pool = 'pois' THEN 'pool:pois:' || p_campaign ELSE 'pool:' || p_pool END,
          p_traceparent);
      END $$`);

    await q(`
      CREATE FUNCTION pool_claim_quest(p_character text, p_min_level integer, p_max_level integer,
                                       p_location jsonb DEFAULT NULL, p_traceparent text DEFAULT NULL)
      RETURNS TABLE (quest_id uuid, title text, description text, objectives jsonb, level integer,
                     xp_reward integer, gold_reward integer, available bigint, refill_job_id uuid)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE r quest_templates%ROWTYPE; v_available bigint;
      BEGIN
        PERFORM pool_check_text(p_character, 'character_id');
        PERFORM pool_check_level_range(p_min_level, p_max_level);
        PERFORM pool_check_location(p_location, 'location');
        UPDATE quest_templates q SET used = true, used_at = now(), claimed_by = p_character, spawned_at_location = p_location
         WHERE q.id = (SELECT c.id FROM quest_templates c
                        WHERE NOT c.used AND c.level BETWEEN p_min_level AND p_max_level
                        ORDER BY c.created_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND NOT q.used
        RETURNING q.* INTO r;
        SELECT count(*) INTO v_available FROM quest_templates WHERE NOT used;
        RETURN QUERY SELECT r.id, r.title, r.description, r.objectives, r.level, r.xp_reward, r.gold_reward,
                            v_available, pool_refill_if_low('quests', v_available, NULL, p_traceparent);
      END $$`);
    await q(`
      CREATE FUNCTION claim_quest_from_pool(character_id text, min_level integer DEFAULT 1, max_level integer DEFAULT 20)
      RETURNS TABLE (quest_id uuid, title text, description text, objectives jsonb, xp_reward integer,
                     gold_reward integer, level integer)
      LANGUAGE sql AS $$
        SELECT c.quest_id, c.title, c.description, c.objectives, c.xp_reward, c.gold_reward, c.level
          FROM pool_claim_quest(character_id, min_level, max_level) c WHERE c.quest_id IS NOT NULL
      $$`);

    await q(`
      CREATE FUNCTION pool_claim_npc(p_campaign_seed text, p_location jsonb, p_claimed_by text DEFAULT NULL,
                                     p_traceparent text DEFAULT NULL)
      RETURNS TABLE (npc_id uuid, name text, role text, personality text, traits jsonb, speech_style text,
                     backstory text, available bigint, refill_job_id uuid)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE r npc_personalities%ROWTYPE; v_available bigint;
      BEGIN
        PERFORM pool_check_campaign(p_campaign_seed, 'campaign_seed');
        PERFORM pool_check_location(p_location, 'location');
        IF p_claimed_by IS NOT NULL THEN PERFORM pool_check_text(p_claimed_by, 'claimed_by'); END IF;
        UPDATE npc_personalities n SET used = true, used_at = now(),
               claimed_by = COALESCE(p_claimed_by, 'campaign:' || p_campaign_seed), campaign_seed = p_campaign_seed,
               spawned_at_location = COALESCE(p_location, '{}'::jsonb) || jsonb_build_object('campaign_seed', p_campaign_seed)
         WHERE n.id = (SELECT c.id FROM npc_personalities c WHERE NOT c.used
                        ORDER BY c.created_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND NOT n.used
        RETURNING n.* INTO r;
        SELECT count(*) INTO v_available FROM npc_personalities WHERE NOT used;
        RETURN QUERY SELECT r.id, r.name, r.role, r.personality, r.traits, r.speech_style, r.backstory,
                            v_available, pool_refill_if_low('npcs', v_available, NULL, p_traceparent);
      END $$`);
    await q(`
      CREATE FUNCTION claim_npc_from_pool(campaign_seed text, location jsonb DEFAULT NULL)
      RETURNS TABLE (npc_id uuid, name text, role text, personality text, traits jsonb, speech_style text,
                     backstory text)
      LANGUAGE sql AS $$
        SELECT c.npc_id, c.name, c.role, c.personality, c.traits, c.speech_style, c.backstory
          FROM pool_claim_npc(campaign_seed, location) c WHERE c.npc_id IS NOT NULL
      $$`);

    // The seed's encounter query: location type, CR within 0.5×–1.5× the player's level.
    await q(`
      CREATE FUNCTION pool_claim_encounter(p_location_type text, p_player_level integer, p_claimed_by text,
                                           p_campaign_seed text DEFAULT NULL, p_location jsonb DEFAULT NULL,
                                           p_traceparent text DEFAULT NULL)
      RETURNS TABLE (encounter_id uuid, name text, location_type text, challenge_rating numeric, enemies jsonb,
                     description text, available bigint, refill_job_id uuid)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE r combat_encounters%ROWTYPE; v_available bigint;
      BEGIN
        IF p_location_type IS NULL OR p_location_type !~ '^[a-z][a-z_]{0,39}$' THEN
          PERFORM pool_invalid('location_type', 'expected a lower-case location type such as forest');
        END IF;
        IF p_player_level IS NULL OR p_player_level NOT BETWEEN 1 AND 20 THEN
          PERFORM pool_invalid('player_level', 'expected 1 to 20');
        END IF;
        PERFORM pool_check_text(p_claimed_by, 'claimed_by');
        IF p_campaign_seed IS NOT NULL THEN PERFORM pool_check_campaign(p_campaign_seed, 'campaign_seed'); END IF;
        PERFORM pool_check_location(p_location, 'location');
        UPDATE combat_encounters e SET used = true, used_at = now(), claimed_by = p_claimed_by,
               campaign_seed = p_campaign_seed,
               spawned_at_location = CASE WHEN p_location IS NULL AND p_campaign_seed IS NULL THEN NULL
                 ELSE COALESCE(p_location, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('campaign_seed', p_campaign_seed)) END
         WHERE e.id = (SELECT c.id FROM combat_encounters c
                        WHERE NOT c.used AND c.location_type = p_location_type
                          AND c.challenge_rating BETWEEN p_player_level * 0.5 AND p_player_level * 1.5
                        ORDER BY c.created_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND NOT e.used
        RETURNING e.* INTO r;
        SELECT count(*) INTO v_available FROM combat_encounters WHERE NOT used;
        RETURN QUERY SELECT r.id, r.name, r.location_type, r.challenge_rating, r.enemies, r.description,
                            v_available, pool_refill_if_low('encounters', v_available, NULL, p_traceparent);
      END $$`);

    await q(`
      CREATE FUNCTION pool_claim_dungeon(p_claimed_by text, p_campaign_seed text DEFAULT NULL,
                                         p_location jsonb DEFAULT NULL, p_traceparent text DEFAULT NULL)
      RETURNS TABLE (dungeon_id uuid, name text, description text, recommended_level integer, rooms jsonb,
                     encounters jsonb, loot jsonb, available bigint, refill_job_id uuid)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE r dungeon_content%ROWTYPE; v_available bigint;
      BEGIN
        PERFORM pool_check_text(p_claimed_by, 'claimed_by');
        IF p_campaign_seed IS NOT NULL THEN PERFORM pool_check_campaign(p_campaign_seed, 'campaign_seed'); END IF;
        PERFORM pool_check_location(p_location, 'location');
        UPDATE dungeon_content d SET used = true, used_at = now(), claimed_by = p_claimed_by,
               campaign_seed = p_campaign_seed,
               spawned_at_location = CASE WHEN p_location IS NULL AND p_campaign_seed IS NULL THEN NULL
                 ELSE COALESCE(p_location, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('campaign_seed', p_campaign_seed)) END
         WHERE d.id = (SELECT c.id FROM dungeon_content c WHERE NOT c.used
                        ORDER BY c.created_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND NOT d.used
        RETURNING d.* INTO r;
        SELECT count(*) INTO v_available FROM dungeon_content WHERE NOT used;
        RETURN QUERY SELECT r.id, r.name, r.description, r.recommended_level, r.rooms, r.encounters, r.loot,
                            v_available, pool_refill_if_low('dungeons', v_available, NULL, p_traceparent);
      END $$`);

    await q(`
      CREATE FUNCTION pool_claim_poi(p_campaign_seed text, p_claimed_by text, p_traceparent text DEFAULT NULL)
      RETURNS TABLE (poi_id uuid, campaign_seed text, name text, kind text, description text, "position" jsonb,
                     available bigint, refill_job_id uuid)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE r points_of_interest%ROWTYPE; v_available bigint;
      BEGIN
        PERFORM pool_check_campaign(p_campaign_seed, 'campaign_seed');
        PERFORM pool_check_text(p_claimed_by, 'claimed_by');
        UPDATE points_of_interest p SET used = true, used_at = now(), claimed_by = p_claimed_by
         WHERE p.id = (SELECT c.id FROM points_of_interest c WHERE NOT c.used AND c.campaign_seed = p_campaign_seed
                        ORDER BY c.created_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND NOT p.used
        RETURNING p.* INTO r;
        SELECT count(*) INTO v_available FROM points_of_interest WHERE NOT used AND campaign_seed = p_campaign_seed;
        RETURN QUERY SELECT r.id, r.campaign_seed, r.name, r.kind, r.description, r.position,
                            v_available, pool_refill_if_low('pois', v_available, p_campaign_seed, p_traceparent);
      END $$`);

    // The seed's monitoring queries read worker_jobs: the pool jobs of the jobs table, in its words.
    await q(`
      CREATE VIEW worker_jobs AS
        SELECT id, kind AS job_type, input AS params, 11 - priority AS priority, lower(status) AS status,
               attempts, result, error AS error_message, created_at, started_at, finished_at AS completed_at
          FROM jobs
         WHERE kind IN ('check_all_pools', 'generate_quests', 'generate_npcs', 'generate_encounters',
                        'generate_dungeons', 'generate_pois', 'summarize_session')`);

    // A session summary (summarize_session): the character's last N chat messages, summarized.
    await q(`
      CREATE TABLE session_summaries (
        id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        character_id  text        NOT NULL,
        job_id        uuid        NOT NULL UNIQUE,
        message_count integer     NOT NULL CHECK (message_count >= 0),
        first_message_at timestamptz,
        last_message_at  timestamptz,
        summary       text        NOT NULL,
        key_events    jsonb       NOT NULL CHECK (jsonb_typeof(key_events) = 'array'),
        model         text        NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q(`CREATE INDEX session_summaries_character ON session_summaries (character_id, created_at DESC)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q('DROP TABLE session_summaries');
    await q('DROP VIEW worker_jobs');
    for (const fn of [
      'claim_quest_from_pool(text, integer, integer)',
      'pool_claim_quest(text, integer, integer, jsonb, text)',
      'claim_npc_from_pool(text, jsonb)',
      'pool_claim_npc(text, jsonb, text, text)',
      'pool_claim_encounter(text, integer, text, text, jsonb, text)',
      'pool_claim_dungeon(text, text, jsonb, text)',
      'pool_claim_poi(text, text, text)',
      'pool_refill_if_low(text, bigint, text, text)',
      'schedule_pool_check()',
      'enqueue_worker_job(text, jsonb, integer, text, text)',
      'pool_check_job_input(text, jsonb)',
      'pool_check_level_range(integer, integer)',
      'pool_check_location(jsonb, text)',
      'pool_check_text(text, text)',
      'pool_check_campaign(text, text)',
      'pool_check_range(jsonb, text, numeric, numeric, boolean)',
      'pool_check_int(jsonb, text, numeric, numeric)',
      'pool_enqueue_job(text, jsonb, integer, text, text, text)',
      'pool_invalid(text, text)',
    ]) {
      await q(`DROP FUNCTION ${fn}`);
    }
    for (const table of [
      'points_of_interest',
      'dungeon_content',
      'combat_encounters',
      'npc_personalities',
      'quest_templates',
      'worker_job_settings',
      'pool_settings',
      'campaigns',
    ]) {
      await q(`DROP TABLE ${table}`);
    }
  }
}
