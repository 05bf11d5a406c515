/**
 * Content pools through the bundled api (a child process) against the real PostgreSQL (fresh
 * schema with the api's migrations). The pool-filler is another app: here the pools are stocked
 * directly (`stockPool`), and the jobs the api enqueues are checked as rows (job + outbox).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sqlOf, type Sql } from '@fleet/db';
import { type TestSchema } from '@fleet/db/testing';
import { stockPool } from '@fleet/pools/testing';
import {
  call,
  createApiSchema,
  createKeys,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
interface Claimed {
  pool: string;
  item: Record<string, unknown> & { id: string };
  available: number;
  refillJobId: string | null;
}
interface PoolLevelBody {
  pool: string;
  campaignSeed: string | null;
  available: number;
  claimed: number;
  minSize: number;
  batchSize: number;
  belowMinimum: boolean;
  pendingJobs: number;
  runningJobs: number;
}

let db: TestSchema;
let keys: TestKeys;
let api: ApiUnderTest;
let player: string;
let operator: string;
let sql: Sql;

before(async () => {
  db = await createApiSchema();
  sql = sqlOf(db.dataSource.manager);
  keys = await createKeys();
  api = await startApi(db.schema, keys);
  player = await tokenFor(keys, 'game-server-1');
  operator = await tokenFor(keys, 'ops-1', { claims: { scope: 'fleet:operator' } });
});

after(async () => {
  await api?.stop();
  await db?.drop();
});

/** Jobs, outbox rows and pool items: what must not change when a request is refused. */
async function rowCounts(): Promise<Record<string, number>> {
  const [row] = await sql.rows<Record<string, number>>(
    `SELECT (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM outbox_events)::int AS outbox,
            (SELECT count(*) FROM quest_templates WHERE used)::int AS claimed_quests,
            (SELECT count(*) FROM campaigns)::int AS campaigns`,
  );
  return row!;
}

async function activeJobs(kind: string): Promise<Array<{ id: string; input: Record<string, unknown> }>> {
  return sql.rows(`SELECT id, input FROM jobs WHERE kind = $1 AND status IN ('PENDING', 'PROCESSING')`, [
    kind,
  ]);
}

async function emptyPools(): Promise<void> {
  await sql.rows(
    `TRUNCATE quest_templates, npc_personalities, combat_encounters, dungeon_content, points_of_interest;
     DELETE FROM jobs; DELETE FROM outbox_events`,
  );
}

async function createCampaign(seed: string): Promise<void> {
  const answer = await call(api, 'POST', '/v1/campaigns', {
    token: operator,
    body: { campaignSeed: seed, name: `Campaign ${seed}` },
  });
  assert.ok([200, 201].includes(answer.status), answer.text);
}

describe('operator routes', () => {
  test('POST /v1/pool-jobs needs the fleet:operator scope: 403 insufficient_scope, nothing written', async () => {
    const before = await rowCounts();
    const answer = await call<ErrorBody>(api, 'POST', '/v1/pool-jobs', {
      token: player,
      body: { jobType: 'check_all_pools' },
    });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error.code, 'FORBIDDEN');
    assert.match(
      answer.headers.get('www-authenticate') ?? '',
      /error="insufficient_scope", scope="fleet:operator"/,
    );
    const campaign = await call(api, 'POST', '/v1/campaigns', {
      token: player,
      body: { campaignSeed: 'nope', name: 'x' },
    });
    assert.equal(campaign.status, 403);
    assert.deepEqual(await rowCounts(), before);
    assert.equal((await call(api, 'POST', '/v1/pool-jobs', { body: {} })).status, 401);
  });

  test('an operator enqueues a job: its row and its outbox request, seed priority kept, Location to the job', async () => {
    await emptyPools();
    const answer = await call<{ jobId: string; jobType: string; priority: number }>(
      api,
      'POST',
      '/v1/pool-jobs',
      {
        token: operator,
        body: { jobType: 'generate_quests', params: { count: 7, level_range: [2, 4] }, priority: 2 },
      },
    );
    assert.equal(answer.status, 202, answer.text);
    assert.equal(answer.headers.get('location'), `/v1/jobs/${answer.body.jobId}`);
    const [job] = await sql.rows<{ kind: string; input: unknown; priority: number; owner_id: string }>(
      'SELECT kind, input, priority, owner_id FROM jobs WHERE id = $1',
      [answer.body.jobId],
    );
    assert.deepEqual(job, {
      kind: 'generate_quests',
      input: { count: 7, level_range: [2, 4] },
      priority: 9, // the jobs table orders higher first: seed priority 2 → 9
      owner_id: 'ops-1',
    });
    const [event] = await sql.rows<{ topic: string; payload: { jobId: string; kind: string } }>(
      'SELECT topic, payload FROM outbox_events WHERE aggregate_key = $1',
      [answer.body.jobId],
    );
    assert.equal(event?.topic, 'pool.job.requested.1');
    assert.equal(event?.payload.kind, 'generate_quests');
    // The operator follows the job like any other of theirs.
    const followed = await call<{ kind: string; status: string }>(
      api,
      'GET',
      `/v1/jobs/${answer.body.jobId}`,
      {
        token: operator,
      },
    );
    assert.equal(followed.status, 200);
    assert.equal(followed.body.status, 'PENDING');
  });

  test('check_all_pools is never queued twice: a second request answers the waiting one', async () => {
    await emptyPools();
    const first = await call<{ jobId: string }>(api, 'POST', '/v1/pool-jobs', {
      token: operator,
      body: { jobType: 'check_all_pools', priority: 1 },
    });
    const second = await call<{ jobId: string }>(api, 'POST', '/v1/pool-jobs', {
      token: operator,
      body: { jobType: 'check_all_pools' },
    });
    assert.equal(first.status, 202);
    assert.equal(second.body.jobId, first.body.jobId);
    assert.equal((await activeJobs('check_all_pools')).length, 1);
  });

  test('bad job requests: 400 naming the field, from the schema or from the database, nothing written', async () => {
    await createCampaign('known');
    // What a pool-filler with POOL_MAX_JOB_COUNT=50 writes at boot.
    await sql.rows(
      `INSERT INTO worker_job_settings (key, value) VALUES ('max_job_count', '50')
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
    );
    const cases: Array<[unknown, string]> = [
      [{ jobType: 'generate_everything' }, 'body.jobType'],
      [{ jobType: 'generate_npcs', params: { count: -1 } }, 'body.params.count'],
      [{ jobType: 'generate_npcs', params: { count: 2.5 } }, 'body.params.count'],
      [{ jobType: 'generate_npcs', params: {} }, 'body.params.count'],
      [{ jobType: 'generate_quests', params: { count: 5, level_range: [6, 2] } }, 'body.params.level_range'],
      [{ jobType: 'generate_encounters', params: { count: 5, cr_range: [3, 1] } }, 'body.params.cr_range'],
      [{ jobType: 'generate_npcs', params: { count: 5, level_range: [1, 2] } }, 'body.params'],
      // Above the deployment's cap: only the database knows it (the pool-filler writes it at boot).
      [{ jobType: 'generate_npcs', params: { count: 51 } }, 'body.params.count'],
      [
        { jobType: 'generate_pois', params: { campaign_seed: 'unknown', count: 5 } },
        'body.params.campaign_seed',
      ],
      [
        { jobType: 'summarize_session', params: { character_id: 'c1', message_count: 0 } },
        'body.params.message_count',
      ],
      [{ jobType: 'check_all_pools', priority: 0 }, 'body.priority'],
      [{ jobType: 'check_all_pools', priority: 11 }, 'body.priority'],
      [{ jobType: 'check_all_pools', extra: true }, 'body'],
    ];
    const before = await rowCounts();
    for (const [body, field] of cases) {
      const answer = await call<ErrorBody>(api, 'POST', '/v1/pool-jobs', { token: operator, body });
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal(answer.body.error.code, 'VALIDATION_FAILED');
      const paths = (answer.body.error.details as Array<{ path: string }>).map((d) => d.path);
      assert.ok(
        paths.some((p) => p === field || p.startsWith(`${field}.`)),
        `${JSON.stringify(body)} names ${field}: ${paths.join(', ')}`,
      );
    }
    assert.deepEqual(await rowCounts(), before);
    // At the cap: accepted.
    const atCap = await call(api, 'POST', '/v1/pool-jobs', {
      token: operator,
      body: { jobType: 'generate_pois', params: { campaign_seed: 'known', count: 50 } },
    });
    assert.equal(atCap.status, 202, atCap.text);
  });

  test('campaigns: created once by seed, the same again is 200, another name is 409, listed', async () => {
    const body = { campaignSeed: 'westmarch', name: 'West Marches' };
    const created = await call<{ campaignSeed: string; createdBy: string }>(api, 'POST', '/v1/campaigns', {
      token: operator,
      body,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.createdBy, 'ops-1');
    assert.equal((await call(api, 'POST', '/v1/campaigns', { token: operator, body })).status, 200);
    const renamed = await call<ErrorBody>(api, 'POST', '/v1/campaigns', {
      token: operator,
      body: { ...body, name: 'Other' },
    });
    assert.equal(renamed.status, 409);
    assert.equal(renamed.body.error.code, 'CONFLICT');
    const bad = await call<ErrorBody>(api, 'POST', '/v1/campaigns', {
      token: operator,
      body: { campaignSeed: 'has space', name: 'x' },
    });
    assert.equal(bad.status, 400);
    const list = await call<{ campaigns: Array<{ campaignSeed: string }> }>(api, 'GET', '/v1/campaigns', {
      token: player,
    });
    assert.ok(list.body.campaigns.some((c) => c.campaignSeed === 'westmarch'));
  });
});

describe('claims', () => {
  test('concurrent claims never share an item; past empty: 404 POOL_EMPTY naming the pool, one refill', async () => {
    await emptyPools();
    await stockPool(sql, 'quests', 12, { level: 3 });
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call<Claimed & ErrorBody>(api, 'POST', '/v1/quests/claim', {
          token: player,
          body: { characterId: `hero-${i}`, minLevel: 1, maxLevel: 5, location: { x: 10, y: i } },
        }),
      ),
    );
    const claimed = answers.filter((a) => a.status === 200);
    const empty = answers.filter((a) => a.status === 404);
    assert.equal(claimed.length, 12);
    assert.equal(empty.length, 18);
    assert.equal(new Set(claimed.map((a) => a.body.item.id)).size, 12, 'every item once');
    for (const a of claimed) {
      assert.equal(a.body.pool, 'quests');
      assert.equal(a.body.item.level, 3);
      assert.ok(Array.isArray(a.body.item.objectives));
    }
    const refills = await activeJobs('generate_quests');
    assert.equal(refills.length, 1, 'one refill however many claims found the pool low');
    assert.deepEqual(refills[0]!.input, { count: 10 });
    for (const a of empty) {
      assert.equal(a.body.error.code, 'POOL_EMPTY');
      // Empty, or its last items held by concurrent claims (SKIP LOCKED never waits for them).
      assert.match(a.body.error.message, /pool quests is empty|being claimed right now/);
      const details = a.body.error.details as { pool: string; available: number; refillJobId: string };
      assert.equal(details.pool, 'quests');
      assert.equal(details.refillJobId, refills[0]!.id);
    }
    const rows = await sql.rows<{ claimed_by: string; spawned_at_location: { x: number } }>(
      'SELECT claimed_by, spawned_at_location FROM quest_templates WHERE used',
    );
    assert.equal(new Set(rows.map((r) => r.claimed_by)).size, 12);
    assert.ok(rows.every((r) => r.spawned_at_location.x === 10));
  });

  test('a claim that leaves a pool below its minimum enqueues its refill; above it, none', async () => {
    await emptyPools();
    await stockPool(sql, 'quests', 22);
    const first = await call<Claimed>(api, 'POST', '/v1/quests/claim', {
      token: player,
      body: { characterId: 'a' },
    });
    assert.equal(first.body.available, 21);
    assert.equal(first.body.refillJobId, null);
    await call(api, 'POST', '/v1/quests/claim', { token: player, body: { characterId: 'b' } });
    const third = await call<Claimed>(api, 'POST', '/v1/quests/claim', {
      token: player,
      body: { characterId: 'c' },
    });
    assert.equal(third.body.available, 19);
    const [refill] = await activeJobs('generate_quests');
    assert.equal(third.body.refillJobId, refill?.id);
  });

  test('levels that fit nothing: 404 saying what is there; bad levels: 400 naming the field, nothing claimed', async () => {
    await emptyPools();
    await stockPool(sql, 'quests', 25, { level: 10 });
    const none = await call<ErrorBody>(api, 'POST', '/v1/quests/claim', {
      token: player,
      body: { characterId: 'low', minLevel: 1, maxLevel: 2 },
    });
    assert.equal(none.status, 404);
    assert.equal(none.body.error.code, 'POOL_EMPTY');
    assert.match(
      none.body.error.message,
      /no item of pool quests is free for this claim \(levels 1–2\): its 25 available items are outside it/,
    );
    const before = await rowCounts();
    const cases: Array<[unknown, string]> = [
      [{ characterId: 'x', minLevel: 0 }, 'body.minLevel'],
      [{ characterId: 'x', maxLevel: 21 }, 'body.maxLevel'],
      [{ characterId: 'x', minLevel: 5, maxLevel: 2 }, 'body.maxLevel'],
      [{ minLevel: 1 }, 'body.characterId'],
      [{ characterId: 'has space' }, 'body.characterId'],
      [{ characterId: 'x', location: { x: 'a', y: 1 } }, 'body.location.x'],
    ];
    for (const [body, field] of cases) {
      const answer = await call<ErrorBody>(api, 'POST', '/v1/quests/claim', { token: player, body });
      assert.equal(answer.status, 400, answer.text);
      const paths = (answer.body.error.details as Array<{ path: string }>).map((d) => d.path);
      assert.ok(paths.includes(field), `${JSON.stringify(body)} names ${field}: ${paths.join(', ')}`);
    }
    assert.deepEqual(await rowCounts(), before);
  });

  test('NPCs go to a campaign; POIs come from the campaign’s own pool; unknown campaign is a 400', async () => {
    await emptyPools();
    await createCampaign('north');
    await createCampaign('south');
    await stockPool(sql, 'npcs', 3);
    await stockPool(sql, 'pois', 2, { campaignSeed: 'north' });
    const npc = await call<Claimed>(api, 'POST', '/v1/npcs/claim', {
      token: player,
      body: { campaignSeed: 'north', location: { x: 5, y: 6 } },
    });
    assert.equal(npc.status, 200, npc.text);
    assert.equal(typeof npc.body.item.personality, 'string');
    const [row] = await sql.rows<{ campaign_seed: string; spawned_at_location: unknown }>(
      'SELECT campaign_seed, spawned_at_location FROM npc_personalities WHERE id = $1',
      [npc.body.item.id],
    );
    assert.deepEqual(row, {
      campaign_seed: 'north',
      spawned_at_location: { x: 5, y: 6, campaign_seed: 'north' },
    });

    const poi = await call<Claimed>(api, 'POST', '/v1/pois/claim', {
      token: player,
      body: { campaignSeed: 'north', characterId: 'p1' },
    });
    assert.equal(poi.status, 200);
    assert.equal(poi.body.available, 1);
    const south = await call<ErrorBody>(api, 'POST', '/v1/pois/claim', {
      token: player,
      body: { campaignSeed: 'south', characterId: 'p1' },
    });
    assert.equal(south.status, 404);
    assert.match(south.body.error.message, /pool pois of campaign south is empty/);
    const [southRefill] = await sql.rows<{ input: unknown }>(
      `SELECT input FROM jobs WHERE kind = 'generate_pois' AND input ->> 'campaign_seed' = 'south'`,
    );
    assert.deepEqual(southRefill?.input, { campaign_seed: 'south', count: 25 });

    const before = await rowCounts();
    for (const path of ['/v1/npcs/claim', '/v1/pois/claim']) {
      const unknown = await call<ErrorBody>(api, 'POST', path, {
        token: player,
        body: { campaignSeed: 'atlantis', characterId: 'p1' },
      });
      assert.equal(unknown.status, 400, unknown.text);
      assert.match(unknown.body.error.message, /body\.campaignSeed: unknown campaign 'atlantis'/);
    }
    assert.deepEqual(await rowCounts(), before);
  });

  test('encounters fit the location type and a CR within 0.5×–1.5× the player level; dungeons claim', async () => {
    await emptyPools();
    await stockPool(sql, 'encounters', 1, { locationType: 'swamp', challengeRating: 8 });
    await stockPool(sql, 'encounters', 1, { locationType: 'swamp', challengeRating: 2 });
    await stockPool(sql, 'dungeons', 1, { level: 4 });
    const claim = (body: unknown) =>
      call<Claimed & ErrorBody>(api, 'POST', '/v1/encounters/claim', { token: player, body });
    const level4 = await claim({ characterId: 'k', locationType: 'swamp', playerLevel: 4 });
    assert.equal(level4.status, 200);
    assert.equal(level4.body.item.challenge_rating, 2);
    const again = await claim({ characterId: 'k', locationType: 'swamp', playerLevel: 4 });
    assert.equal(again.status, 404);
    assert.match(
      again.body.error.message,
      /free for this claim \(swamp with challenge rating 2–6\): its 1 available item is outside it/,
    );
    assert.equal((await claim({ characterId: 'k', locationType: 'swamp', playerLevel: 6 })).status, 200);
    assert.equal((await claim({ characterId: 'k', locationType: 'lava', playerLevel: 4 })).status, 400);
    const badLevel = await claim({ characterId: 'k', locationType: 'swamp', playerLevel: 40 });
    assert.equal(badLevel.status, 400);
    assert.match(badLevel.body.error.message, /body\.playerLevel/);

    const dungeon = await call<Claimed>(api, 'POST', '/v1/dungeons/claim', {
      token: player,
      body: { characterId: 'k' },
    });
    assert.equal(dungeon.status, 200);
    assert.equal((dungeon.body.item.rooms as unknown[]).length, 3);
  });

  test('GET /v1/pools: every pool with its level, minimum, batch and refill jobs; claims are counted', async () => {
    await emptyPools();
    await stockPool(sql, 'dungeons', 12);
    await call(api, 'POST', '/v1/quests/claim', { token: player, body: { characterId: 'z' } });
    const answer = await call<{ pools: PoolLevelBody[] }>(api, 'GET', '/v1/pools', { token: player });
    assert.equal(answer.status, 200);
    const byName = new Map(answer.body.pools.map((p) => [`${p.pool}:${p.campaignSeed ?? ''}`, p]));
    assert.deepEqual(byName.get('dungeons:'), {
      pool: 'dungeons',
      campaignSeed: null,
      available: 12,
      claimed: 0,
      minSize: 10,
      batchSize: 5,
      belowMinimum: false,
      pendingJobs: 0,
      runningJobs: 0,
    });
    assert.equal(byName.get('quests:')?.pendingJobs, 1, 'the claim found it empty and enqueued its refill');
    assert.equal(byName.get('quests:')?.belowMinimum, true);
    for (const seed of ['north', 'south', 'westmarch']) assert.ok(byName.has(`pois:${seed}`), seed);
    assert.equal((await call(api, 'GET', '/v1/pools')).status, 401);
    const metrics = await fetch(`http://127.0.0.1:${api.process.port}/metrics`).then((r) => r.text());
    assert.match(metrics, /pool_claims_total\{pool="quests",outcome="claimed"[^}]*\} [1-9]/);
    assert.match(metrics, /pool_claims_total\{pool="quests",outcome="empty"[^}]*\} [1-9]/);
  });
});
