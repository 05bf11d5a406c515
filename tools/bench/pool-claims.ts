/**
 * Benchmark (not a test): players hammering a content pool.
 *
 *   npm run bench:pool-claims      (servers from tools/infra; CLAIMERS=200, CLAIMS=2000, QUESTS=500,
 *                                   DATABASE_POOL_SIZE=10)
 *
 * In one run, against the same PostgreSQL:
 *  1. api: a fresh schema with the api's migrations and QUESTS quests (level 1–10) stocked, the
 *     bundled api on it, then CLAIMERS concurrent claimers — one character each — sending CLAIMS
 *     `POST /v1/quests/claim` in all (each claimer its share, one after another);
 *  2. floor: the same stock in another fresh schema and the same claims over HTTP to
 *     `floor-claims.ts` (a child process like the api: node:http, the same statement on a pg pool of
 *     the api's size, no framework, auth or validation) — what any HTTP claim endpoint costs;
 *  3. bare: the same again without HTTP: each claim the statement the api runs
 *     (`SELECT * FROM pool_claim_quest(…)`) from this process on a pg pool of the api's size.
 * Checks, for both, that every quest was claimed at most once, that every 200 carries a distinct
 * quest whose row names its character, and that every claim past empty got 404 POOL_EMPTY (api) or
 * no row (bare); prints p50/p99 claim latency and claims/s of each and the ratios. The client's
 * own HTTP work shares the 2 cores with the server's in the api and floor runs, as it would not
 * on a real deployment: api/floor is the framework's cost, floor/bare that of HTTP here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { sqlOf } from '@fleet/db';
import { createTestSchema } from '@fleet/db/testing';
import { stockPool } from '@fleet/pools/testing';
import { freePort, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { Pool } from 'pg';
import { API_MIGRATIONS } from '../../apps/api/src/migrations';
import {
  call,
  createApiSchema,
  createKeys,
  DATABASE_URL,
  startApi,
  tokenFor,
} from '../../apps/api/test/harness';

const CLAIMERS = Number(process.env.CLAIMERS ?? 200);
const CLAIMS = Number(process.env.CLAIMS ?? 2000);
const QUESTS = Number(process.env.QUESTS ?? 500);
const DB_POOL = Number(process.env.DATABASE_POOL_SIZE ?? 10);

interface Outcome {
  character: string;
  ms: number;
  questId: string | undefined;
}

interface Run {
  outcomes: Outcome[];
  wallMs: number;
}

/** `CLAIMERS` loops, each one character, together `CLAIMS` claims. */
async function hammer(claim: (character: string) => Promise<string | undefined>): Promise<Run> {
  const outcomes: Outcome[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLAIMERS }, async (_, c) => {
      const character = `char-${c}`;
      const share = Math.floor(CLAIMS / CLAIMERS) + (c < CLAIMS % CLAIMERS ? 1 : 0);
      for (let i = 0; i < share; i++) {
        const t0 = performance.now();
        const questId = await claim(character);
        outcomes.push({ character, ms: performance.now() - t0, questId });
      }
    }),
  );
  return { outcomes, wallMs: performance.now() - start };
}

/** Quests at levels 1–10, `QUESTS / 10` of each. */
async function stock(sql: ReturnType<typeof sqlOf>): Promise<void> {
  for (let level = 1; level <= 10; level++) {
    await stockPool(sql, 'quests', Math.floor(QUESTS / 10) + (level <= QUESTS % 10 ? 1 : 0), { level });
  }
}

/** The checks both runs must pass: one item per claim at most, every item claimed by its winner. */
async function verify(
  name: string,
  run: Run,
  rows: Array<{ id: string; claimed_by: string | null; used: boolean }>,
): Promise<void> {
  const won = run.outcomes.filter((o) => o.questId);
  assert.equal(run.outcomes.length, CLAIMS, `${name}: every claim answered`);
  assert.equal(won.length, Math.min(QUESTS, CLAIMS), `${name}: every quest claimed once`);
  assert.equal(new Set(won.map((o) => o.questId)).size, won.length, `${name}: no quest given twice`);
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const o of won) {
    assert.equal(byId.get(o.questId!)?.claimed_by, o.character, `${name}: row names its winner`);
  }
  assert.equal(rows.filter((r) => r.used).length, won.length, `${name}: as many rows used as claims won`);
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

function figures(run: Run) {
  const all = run.outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const won = run.outcomes
    .filter((o) => o.questId)
    .map((o) => o.ms)
    .sort((a, b) => a - b);
  return {
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    wonP50: quantile(won, 0.5),
    wonP99: quantile(won, 0.99),
    perSecond: (run.outcomes.length / run.wallMs) * 1000,
  };
}

async function viaApi(): Promise<Run> {
  const db = await createApiSchema();
  const keys = await createKeys();
  const api = await startApi(db.schema, keys, {
    RATE_LIMIT_MAX: '1000000',
    DATABASE_POOL_SIZE: String(DB_POOL),
    LOG_LEVEL: 'warn',
  });
  try {
    const sql = sqlOf(db.dataSource.manager);
    await stock(sql);
    const token = await tokenFor(keys, 'game-server', { expiresInS: 3600 });
    // Warm up (connections, JIT, the claim's plan) with claims no quest fits: the stock stays whole.
    for (let i = 0; i < 20; i++) {
      await call(api, 'POST', '/v1/quests/claim', { token, body: { characterId: 'warmup', minLevel: 20 } });
    }
    let empty = 0;
    const run = await hammer(async (character) => {
      const answer = await call<{ item?: { id: string }; error?: { code: string } }>(
        api,
        'POST',
        '/v1/quests/claim',
        { token, body: { characterId: character, minLevel: 1, maxLevel: 10 } },
      );
      if (answer.status === 200) return answer.body.item!.id;
      if (answer.status === 404 && answer.body.error?.code === 'POOL_EMPTY') {
        empty++;
        return undefined;
      }
      throw new Error(`claim: ${answer.status} ${answer.text}`);
    });
    assert.equal(empty, CLAIMS - Math.min(QUESTS, CLAIMS), 'api: every claim past empty is POOL_EMPTY');
    await verify('api', run, await sql.rows('SELECT id, claimed_by, used FROM quest_templates'));
    return run;
  } finally {
    await api.stop();
    await db.drop();
  }
}

async function floor(): Promise<Run> {
  const db = await createTestSchema({ url: DATABASE_URL, migrations: API_MIGRATIONS });
  const port = await freePort();
  const server = spawn(process.execPath, ['--require', '@swc-node/register', 'tools/bench/floor-claims.ts'], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, PORT: String(port), FLOOR_SCHEMA: db.schema, FLOOR_POOL_SIZE: String(DB_POOL) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve) => server.stdout.once('data', resolve));
    const sql = sqlOf(db.dataSource.manager);
    await stock(sql);
    const claim = (characterId: string, minLevel: number, maxLevel: number) =>
      fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ characterId, minLevel, maxLevel }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { item?: { id: string } } }));
    for (let i = 0; i < 20; i++) await claim('warmup', 20, 20);
    const run = await hammer(async (character) => {
      const answer = await claim(character, 1, 10);
      if (answer.status === 200) return answer.body.item!.id;
      if (answer.status === 404) return undefined;
      throw new Error(`floor claim: ${answer.status}`);
    });
    await verify('floor', run, await sql.rows('SELECT id, claimed_by, used FROM quest_templates'));
    return run;
  } finally {
    server.kill();
    await db.drop();
  }
}

async function bare(): Promise<Run> {
  const db = await createTestSchema({ url: DATABASE_URL, migrations: API_MIGRATIONS });
  const pool = new Pool({
    connectionString: DATABASE_URL,
    max: DB_POOL,
    options: `-c search_path=${db.schema}`,
  });
  try {
    const sql = sqlOf(db.dataSource.manager);
    await stock(sql);
    for (let i = 0; i < 20; i++) {
      await pool.query('SELECT * FROM pool_claim_quest($1, $2, $3, NULL, NULL)', ['warmup', 20, 20]);
    }
    const run = await hammer(async (character) => {
      const { rows } = await pool.query<{ quest_id: string | null }>({
        name: 'claim',
        text: 'SELECT * FROM pool_claim_quest($1, $2, $3, NULL, NULL)',
        values: [character, 1, 10],
      });
      return rows[0]?.quest_id ?? undefined;
    });
    await verify('bare', run, await sql.rows('SELECT id, claimed_by, used FROM quest_templates'));
    return run;
  } finally {
    await pool.end();
    await db.drop();
  }
}

async function main(): Promise<void> {
  // fetch's default agent opens as many keep-alive sockets as there are requests in flight.
  console.log(
    `pool claims: ${CLAIMERS} claimers, ${CLAIMS} claims, ${QUESTS} quests, db pool ${DB_POOL} (api, floor, bare)`,
  );
  const api = figures(await viaApi());
  const http = figures(await floor());
  const ref = figures(await bare());
  const row = (name: string, f: ReturnType<typeof figures>) =>
    `  ${name.padEnd(5)} p50 ${f.p50.toFixed(1).padStart(6)} ms  p99 ${f.p99.toFixed(1).padStart(6)} ms  ` +
    `(claims that won: p50 ${f.wonP50.toFixed(1)} ms, p99 ${f.wonP99.toFixed(1)} ms)  ${f.perSecond.toFixed(0)} claims/s`;
  console.log('every quest claimed once, no quest given twice, every claim past empty got POOL_EMPTY');
  console.log(row('api', api));
  console.log(row('floor', http));
  console.log(row('bare', ref));
  const ratio = (name: string, a: ReturnType<typeof figures>, b: ReturnType<typeof figures>) =>
    console.log(
      `  ratio ${name}: p50 ${(a.p50 / b.p50).toFixed(2)}, p99 ${(a.p99 / b.p99).toFixed(2)}, ` +
        `throughput ${(a.perSecond / b.perSecond).toFixed(2)}`,
    );
  ratio('api/floor', api, http);
  ratio('api/bare ', api, ref);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
