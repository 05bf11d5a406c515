import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { DATABASE_URL, PoolFixture } from './harness';

/** Seed 001's SQL, copied verbatim from its code blocks (job types, monitoring, claims, troubleshooting). */
const SEED_JOB_TYPES = `-- Check all content pools (recommended hourly)
SELECT enqueue_worker_job('check_all_pools', NULL, 1);

-- Generate specific content
SELECT enqueue_worker_job('generate_quests', '{"count": 20, "level_range": [1, 10]}', 5);
SELECT enqueue_worker_job('generate_npcs', '{"count": 15}', 5);
SELECT enqueue_worker_job('generate_encounters', '{"count": 10, "cr_range": [1, 5]}', 5);
SELECT enqueue_worker_job('generate_dungeons', '{"count": 5}', 5);
SELECT enqueue_worker_job('generate_pois', '{"campaign_seed": "abc123", "count": 25}', 5);
SELECT enqueue_worker_job('summarize_session', '{"character_id": "uuid", "message_count": 30}', 5);
`;
const SEED_MONITORING = `-- Pending jobs
SELECT id, job_type, priority, created_at
FROM worker_jobs
WHERE status = 'pending'
ORDER BY priority, created_at;

-- Recent completed jobs
SELECT job_type, status, started_at, completed_at, result
FROM worker_jobs
WHERE status IN ('completed', 'failed')
ORDER BY completed_at DESC
LIMIT 10;
`;
const SEED_POOLS = `-- Quest pool
SELECT COUNT(*) as available FROM quest_templates WHERE used = FALSE;

-- NPC pool
SELECT COUNT(*) as available FROM npc_personalities WHERE used = FALSE;

-- Encounter pool
SELECT COUNT(*) as available FROM combat_encounters WHERE used = FALSE;

-- Dungeon pool
SELECT COUNT(*) as available FROM dungeon_content WHERE used = FALSE;
`;
const SEED_CLAIM_QUEST = `-- Atomically claim a quest for a character
SELECT * FROM claim_quest_from_pool('character-uuid', 1, 5);
`;
const SEED_CLAIM_NPC = `-- Atomically claim an NPC for a location
SELECT * FROM claim_npc_from_pool('campaign-seed', '{"x": 100, "y": 200}');
`;
const SEED_REFILL = `-- Manually trigger pool check
SELECT enqueue_worker_job('check_all_pools', NULL, 1);

-- Check if job was processed
SELECT * FROM worker_jobs
WHERE job_type = 'check_all_pools'
ORDER BY created_at DESC
LIMIT 5;
`;
const SEED_CRON = 'SELECT schedule_pool_check();';

describe('pool-filler: the seed’s SQL, verbatim, in psql', () => {
  let fx: PoolFixture;

  before(async () => {
    fx = await PoolFixture.create();
    // The campaigns the seed's examples name.
    await fx.campaign('abc123');
    await fx.campaign('campaign-seed');
  });
  after(async () => {
    await fx?.close();
  });

  /** Runs SQL with the real psql client in the fixture's schema; stops at the first error. */
  function psql(sql: string, args: string[] = []): string {
    return execFileSync('psql', [DATABASE_URL, '-X', '-v', 'ON_ERROR_STOP=1', ...args], {
      input: sql,
      encoding: 'utf8',
      env: { ...process.env, PGOPTIONS: `-c search_path=${fx.db.schema}` },
    });
  }

  test('the job types enqueue one job each with its request in the outbox, in one transaction each', async () => {
    const out = psql(SEED_JOB_TYPES);
    const ids = [...out.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map(
      (m) => m[0],
    );
    assert.equal(ids.length, 7);
    const jobs = await fx
      .sql()
      .rows<{ id: string; kind: string; priority: number; input: unknown }>(
        'SELECT id, kind, priority, input FROM jobs ORDER BY created_at',
      );
    assert.deepEqual(
      jobs.map((j) => [j.kind, j.priority]),
      [
        ['check_all_pools', 10],
        ['generate_quests', 6],
        ['generate_npcs', 6],
        ['generate_encounters', 6],
        ['generate_dungeons', 6],
        ['generate_pois', 6],
        ['summarize_session', 6],
      ],
      'seed priority 1 (highest) is the jobs table’s 10',
    );
    assert.deepEqual(jobs[1]!.input, { count: 20, level_range: [1, 10] });
    const outbox = await fx.sql().rows<{
      topic: string;
      aggregate_key: string;
      payload: { jobId: string; kind: string; requestedAt: string };
    }>('SELECT topic, aggregate_key, payload FROM outbox_events ORDER BY seq');
    assert.deepEqual(
      outbox.map((o) => o.payload.jobId),
      jobs.map((j) => j.id),
    );
    assert.ok(outbox.every((o) => o.topic === fx.topic.name && o.aggregate_key === o.payload.jobId));
    assert.ok(
      outbox.every((o) => fx.topic.schema.safeParse(o.payload).success),
      'every request is valid on the topic',
    );
  });

  test('the monitoring queries, the pool counts and the cron line answer', () => {
    const monitoring = psql(SEED_MONITORING);
    assert.match(monitoring, /check_all_pools/);
    assert.match(monitoring, /\(7 rows\)/, 'the seven pending jobs');
    assert.equal((psql(SEED_POOLS).match(/available/g) ?? []).length, 4);
    // The check waiting already is reused: checks are never queued twice.
    const before = psql('SELECT count(*) FROM jobs', ['-tA']).trim();
    psql(SEED_CRON);
    psql(SEED_REFILL);
    assert.equal(psql('SELECT count(*) FROM jobs', ['-tA']).trim(), before);
  });

  test('the claims return the seed’s fields, once per item; an empty pool returns no row', async () => {
    assert.match(psql(SEED_CLAIM_QUEST), /\(0 rows\)/, 'empty pool');
    const jobId = '00000000-0000-4000-8000-000000000001';
    await fx.sql().rows(
      `INSERT INTO quest_templates (title, description, objectives, level, xp_reward, gold_reward, job_id, item_index, model)
       VALUES ('The Goblin Menace', 'Goblins are raiding the village...',
               '[{"type": "kill_enemies", "target": "goblins", "count": 5}]', 2, 100, 50, $1, 0, 'm')`,
      [jobId],
    );
    await fx.sql().rows(
      `INSERT INTO npc_personalities (name, role, personality, traits, speech_style, backstory, job_id, item_index, model)
       VALUES ('Mira', 'innkeeper', 'warm, nosy', '["kind", "curious"]', 'fast and friendly', 'Ran away from a duke.', $1, 1, 'm')`,
      [jobId],
    );
    const quest = psql(SEED_CLAIM_QUEST, ['--csv']);
    assert.match(
      quest.split('\n')[0]!,
      /^quest_id,title,description,objectives,xp_reward,gold_reward,level$/,
    );
    assert.match(quest, /The Goblin Menace/);
    assert.match(psql(SEED_CLAIM_QUEST), /\(0 rows\)/, 'claimed once');
    assert.match(psql(SEED_CLAIM_NPC), /Mira/);
    const [npc] = await fx
      .sql()
      .rows<{ used: boolean; spawned_at_location: unknown }>(
        'SELECT used, spawned_at_location FROM npc_personalities',
      );
    assert.deepEqual(npc, {
      used: true,
      spawned_at_location: { x: 100, y: 200, campaign_seed: 'campaign-seed' },
    });
  });

  test('bad arguments: a clear SQL error naming the argument, and no row written', async () => {
    const count = async () => (await fx.sql().rows<{ n: string }>('SELECT count(*) AS n FROM jobs'))[0]!.n;
    const before = await count();
    const cases: Array<[string, RegExp]> = [
      [`SELECT enqueue_worker_job('make_coffee', NULL, 5);`, /job_type: unknown job type 'make_coffee'/],
      [
        `SELECT enqueue_worker_job('generate_npcs', '{"count": -1}', 5);`,
        /params\.count: expected an integer from 1 to 100/,
      ],
      [
        `SELECT enqueue_worker_job('generate_npcs', '{"count": 101}', 5);`,
        /params\.count: expected an integer from 1 to 100/,
      ],
      [
        `SELECT enqueue_worker_job('generate_quests', '{"count": 5, "level_range": [9, 2]}', 5);`,
        /params\.level_range: .*inverted/,
      ],
      [
        `SELECT enqueue_worker_job('generate_encounters', '{"count": 5, "cr_range": [4, 1]}', 5);`,
        /params\.cr_range: .*inverted/,
      ],
      [
        `SELECT enqueue_worker_job('generate_pois', '{"campaign_seed": "nope", "count": 5}', 5);`,
        /params\.campaign_seed: unknown campaign 'nope'/,
      ],
      [
        `SELECT enqueue_worker_job('generate_npcs', '{"count": 5, "colour": "red"}', 5);`,
        /params\.colour: not a parameter of generate_npcs/,
      ],
      [
        `SELECT enqueue_worker_job('generate_npcs', '{"count": 5}', 11);`,
        /priority: expected 1 \(highest\) to 10 \(lowest\)/,
      ],
      [
        `SELECT * FROM claim_quest_from_pool('character-uuid', 8, 5);`,
        /max_level: the level range 8–5 is inverted/,
      ],
      [`SELECT * FROM claim_quest_from_pool('character-uuid', 0, 5);`, /min_level: expected 1 to 20/],
      [
        `SELECT * FROM claim_npc_from_pool('nope', '{"x": 1, "y": 2}');`,
        /campaign_seed: unknown campaign 'nope'/,
      ],
      [
        `SELECT * FROM claim_npc_from_pool('abc123', '{"x": "far"}');`,
        /location: expected \{"x": number, "y": number\}/,
      ],
    ];
    for (const [sql, message] of cases) {
      assert.throws(
        () => psql(sql, ['-q']),
        (error: Error & { stderr?: string }) => message.test(error.stderr ?? ''),
        sql,
      );
    }
    assert.equal(await count(), before, 'nothing written');
  });
});
