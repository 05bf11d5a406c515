/**
 * The fault campaign (issue 21): the fleet with two replicas of each worker on the real local
 * servers, a mixed workload, and faults injected on a seeded schedule; then an independent
 * checker (./checker.ts) reads the outcome and the run fails on anything lost, doubled or
 * reordered.
 *
 *   npm run faults                              every kind, ≥ 3 times each, 20 minutes
 *   npm run faults -- --minutes 5 --kinds F1,F5 --seed 7
 *
 * Needs the servers of tools/infra running (`tools/infra up`); the campaign crashes and restarts
 * them itself. Writes `.local/faults/<run>/` (acks, third-party call logs, faults, verdict) and,
 * for a full run, docs/faults.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { request } from 'undici';
import { FakeLlmServer } from '@fleet/llm/testing';
import { buildAppBundle, freePort, type AppProcess } from '@fleet/service-kit/testing';
import { startFakeReceiver } from '@fleet/webhooks/testing';
import { EXPORT_CALLBACK_SECRET, startChatFleet, type ChatFleet } from '../../test/chat/harness';
import { check, formatVerdict, type CheckSources, type Verdict } from './checker';
import {
  alive,
  FAULT_KINDS,
  FAULT_NAMES,
  inject,
  Toxiproxy,
  type FaultContext,
  type FaultKind,
  type FaultRecord,
} from './faults';
import { Workload } from './workload';

const ROOT = resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CampaignOptions {
  seed: number;
  /** Faults are injected for this long; then the workload stops and the fleet settles. */
  minutes: number;
  kinds: FaultKind[];
  /** Each kind at least this many times. */
  repeat: number;
  /** Where the run's files go. */
  outDir: string;
  /** How long after the faults every acknowledged request must be final. */
  settleSeconds: number;
  conversations: number;
  log?: (line: string) => void;
  /**
   * Runs the routers from a deliberately broken bundle, to show the checker catches the bug:
   * `duplicate-effect` drops the router's dedup (a record seen again calls the channel again),
   * `commit-before-effect` acknowledges a record before its channel call is done.
   */
  mutant?: Mutant;
  /** Leave the run's database schema and topics behind for a later `checker.ts <run dir>`. */
  keepData?: boolean;
}

export const MUTANTS = {
  'duplicate-effect': [
    { find: /if \(known\.has\(plan\.channel\)\) \{/, replace: 'if (false) {' },
    { find: /if \(claim\.kind === "finished"\) \{/, replace: 'if (false) {' },
  ],
  'commit-before-effect': [
    {
      find: /const result = await this\.deliver\(message, plan, (context\d*)\);/,
      // The effect runs 1.5 s after the record is acknowledged, as a handler that hands its work
      // to an in-memory queue would: a router killed in between loses it.
      replace:
        'void new Promise((r) => setTimeout(r, 1500)).then(() => this.deliver(message, plan, $1)).catch(() => undefined); const result = { kind: "done" };',
    },
  ],
} as const;
export type Mutant = keyof typeof MUTANTS;

/** Builds the router's bundle, then breaks it in place (this process' later starts reuse it). */
function buildMutant(mutant: Mutant): void {
  const bundle = join(dirname(buildAppBundle('message-router')), 'main.bundle.js');
  let code = readFileSync(bundle, 'utf8');
  for (const { find, replace } of MUTANTS[mutant]) {
    if (!find.test(code)) throw new Error(`mutant ${mutant}: ${String(find)} not found in ${bundle}`);
    code = code.replace(find, replace);
  }
  writeFileSync(bundle, code);
}

export interface CampaignResult {
  verdict: Verdict;
  faults: FaultRecord[];
  durationMs: number;
  workload: Workload['stats'];
  runDir: string;
  /** Replicas that exited without the campaign killing them. */
  crashed: string[];
}

/** mulberry32: a small seeded PRNG, so a schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function infraEnv(): Record<string, string> {
  const out = execFileSync('bash', ['tools/infra', 'env'], { cwd: ROOT, encoding: 'utf8' });
  return Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const log = options.log ?? ((line: string) => console.log(`[faults] ${line}`));
  const started = Date.now();
  const runDir = options.outDir;
  mkdirSync(runDir, { recursive: true });
  const env = infraEnv();
  for (const [k, v] of Object.entries(env)) process.env[k] ??= v;
  const brokers = env.KAFKA_BROKERS!.split(',');
  const random = prng(options.seed);

  const needs = new Set(options.kinds);
  let toxiproxy: { proxy: Toxiproxy; process: AppProcess | undefined; stop(): Promise<void> } | undefined;
  const pgProxyPort = await freePort();
  if (needs.has('F13')) toxiproxy = await startToxiproxy(env, pgProxyPort);
  const fakeTimeLib = needs.has('F14')
    ? execFileSync('bash', ['tools/infra', 'tool', 'faketime'], { cwd: ROOT, encoding: 'utf8' }).trim()
    : undefined;

  const llm = await FakeLlmServer.start({ models: ['fake-7b-instruct'], tokensPerSecond: 2_000 });
  const receiver = await startFakeReceiver({ secret: EXPORT_CALLBACK_SECRET });
  if (options.mutant) {
    buildMutant(options.mutant);
    log(`MUTANT ${options.mutant}: the routers run a deliberately broken bundle`);
  }
  log(`starting the fleet (2 replicas of each worker), seed ${options.seed}`);
  const fleet: ChatFleet = await startChatFleet({
    routers: 2,
    pollers: 2,
    fileMerge: 2,
    generation: 2,
    exporter: 2,
    readReceipts: false,
    llm: { endpoint: llm.url, model: 'fake-7b-instruct' },
    env: {
      EXPORT_CALLBACK_ALLOWLIST: '127.0.0.1/32',
      LOG_LEVEL: 'warn',
      // A dead worker's partitions move within seconds, so recovery is measured, not waited for.
      KAFKA_SESSION_TIMEOUT_MS: '10000',
    },
    routerEnv: {
      CHANNEL_TIMEOUT_MS: '5000',
      ROUTER_SEND_LEASE_MS: '8000',
      ROUTER_SESSION_TIMEOUT_MS: '6000',
      ROUTER_CONFIRMATION_GRACE_MS: '15000',
    },
  });
  // Interrupted (Ctrl-C, a CI timeout): the fleet's processes go with the runner.
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the fleet`);
    void fleet.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const channel: FaultContext['channel'] = { slowMs: 0 };
  const fake = fleet.fake;
  fake.script({
    channel: 'whatsapp',
    match: () => channel.status === 503,
    responses: [{ status: 503 }],
    then: 'repeat-last',
  });
  fake.script({
    channel: 'whatsapp',
    match: () => channel.status === 429,
    responses: [{ status: 429, retryAfter: 2 }],
    then: 'repeat-last',
  });
  fake.script({
    channel: 'whatsapp',
    match: () => channel.slowMs === 800,
    responses: [{ delayMs: 800 }],
    then: 'repeat-last',
  });
  fake.script({
    channel: 'whatsapp',
    match: () => channel.slowMs === 3_000,
    responses: [{ delayMs: 3_000 }],
    then: 'repeat-last',
  });

  const probeTopic = `${fleet.namespace}.fleet.faults.probe.1`;
  const admin = new Kafka({ clientId: 'faults-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: probeTopic, numPartitions: 1, replicationFactor: 1 }] });
  await admin.disconnect();

  let proxiedRouter: AppProcess | undefined;
  if (toxiproxy) {
    proxiedRouter = await fleet.startRouter({
      KAFKA_BROKERS: env.KAFKA_FAULTS_PROXY!,
      DATABASE_URL: env.DATABASE_URL!.replace(/:(\d+)\//, `:${pgProxyPort}/`),
    });
    log(`router pid ${proxiedRouter.child.pid} talks to Kafka and PostgreSQL through Toxiproxy`);
  }

  const sources: CheckSources = {
    databaseUrl: env.DATABASE_URL!,
    schema: fleet.db.schema,
    brokers,
    namespace: fleet.namespace,
    minio: {
      endPoint: env.MINIO_ENDPOINT!,
      port: Number(env.MINIO_PORT),
      useSSL: env.MINIO_USE_SSL === 'true',
      accessKey: env.MINIO_ACCESS_KEY!,
      secretKey: env.MINIO_SECRET_KEY!,
      bucket: fleet.envOf('file-merge').MINIO_BUCKET ?? 'fleet-files',
    },
  };
  writeFileSync(join(runDir, 'sources.json'), `${JSON.stringify(sources, null, 2)}\n`);

  // A map to export: generated before the faults start.
  const designer = await fleet.token('faults-designer');
  const mapJobId = await createMap(fleet.apiUrl, designer);

  const workload = new Workload(
    { apiUrl: fleet.apiUrl, token: (sub) => fleet.token(sub) },
    {
      conversations: options.conversations,
      messageGapMs: 250,
      uploadEveryMs: 3_000,
      storyEveryMs: 4_000,
      exportEveryMs: 15_000,
      mapJobId,
      callbackUrl: receiver.url,
      seed: options.seed,
    },
    join(runDir, 'acks.jsonl'),
  );
  const ctx: FaultContext = {
    root: ROOT,
    fleet,
    llm,
    fake,
    brokers,
    databaseUrl: env.DATABASE_URL!,
    random,
    ack: (entry) => workload.ack(entry),
    channel,
    toxiproxy: toxiproxy?.proxy,
    proxiedRouter,
    fakeTimeLib,
    routersOnly: options.mutant !== undefined,
    log,
  };

  // The canary: one conversation of its own; a message sent as a fault heals, timed to the channel.
  const canaryToken = await fleet.token('faults-canary');
  const canary = await postJson(fleet.apiUrl, canaryToken, '/v1/conversations', {
    participants: [],
    channel: 'whatsapp',
    recipients: { whatsapp: '+15589999999' },
  });
  const canaryId = (canary.body as { id: string }).id;
  let canaryN = 0;
  const recovery = async (): Promise<number | undefined> => {
    const t0 = Date.now();
    const n = canaryN++;
    for (;;) {
      try {
        const answer = await postJson(
          fleet.apiUrl,
          canaryToken,
          `/v1/conversations/${canaryId}/messages`,
          { text: `canary ${n}` },
          { 'idempotency-key': `canary-${options.seed}-${n}` },
        );
        if (answer.status === 202) {
          const id = (answer.body as { id: string }).id;
          workload.ack({ flow: 'chat', id, key: canaryId, n, at: Date.now() });
          while (Date.now() - t0 < 180_000) {
            if (fake.calls.some((c) => c.messageId === id && c.status === 200)) return Date.now() - t0;
            await sleep(100);
          }
          return undefined;
        }
      } catch {
        // the api restarting: try again
      }
      if (Date.now() - t0 > 180_000) return undefined;
      await sleep(250);
    }
  };

  workload.start();
  log(`workload: ${options.conversations} conversations, uploads, stories, exports`);
  await sleep(5_000);
  const schedule: FaultKind[] = shuffle(
    options.kinds.flatMap((k) => Array.from({ length: options.repeat }, () => k)),
    random,
  );
  const deadline = started + options.minutes * 60_000;
  const faults: FaultRecord[] = [];
  const variants = new Map<FaultKind, number>();
  for (let i = 0; i < schedule.length || Date.now() < deadline; i++) {
    if (i >= schedule.length) schedule.push(options.kinds[Math.floor(random() * options.kinds.length)]!);
    const kind = schedule[i]!;
    const variant = variants.get(kind) ?? 0;
    variants.set(kind, variant + 1);
    const startedAt = Date.now();
    log(`${kind} (${FAULT_NAMES[kind]}) …`);
    let detail: string;
    try {
      detail = await inject(ctx, kind, variant);
    } catch (error) {
      detail = `INJECTION FAILED: ${error instanceof Error ? error.message : String(error)}`;
    }
    const healedAt = Date.now();
    const recoveryMs = await recovery();
    faults.push({ kind, variant: String(variant), startedAt, healedAt, recoveryMs, detail });
    log(
      `${kind}: ${detail}; recovered in ${recoveryMs === undefined ? 'NOT within 180 s' : `${(recoveryMs / 1000).toFixed(1)} s`}`,
    );
    writeFileSync(join(runDir, 'faults.json'), `${JSON.stringify(faults, null, 2)}\n`);
    await sleep(2_000 + Math.floor(random() * 4_000));
  }
  // A replica that exited without the campaign killing it crashed: that is a failure of its own.
  const fleetApps = [
    fleet.api,
    ...fleet.pollers,
    ...fleet.routers,
    ...fleet.fileMerge,
    ...fleet.generation,
    ...fleet.exporters,
  ];
  const crashed = fleetApps
    .filter((p) => !alive(p))
    .map(
      (p) =>
        `${p.app} pid ${p.child.pid} exited by itself (${p.child.exitCode ?? p.child.signalCode}); log ${p.logFile}`,
    );
  for (const line of crashed) log(`CRASH: ${line}`);
  const faultsEnded = Date.now();
  log(`faults done after ${((faultsEnded - started) / 1000).toFixed(0)} s; stopping the workload`);
  await workload.stop();
  log(`settling (up to ${options.settleSeconds} s): every acknowledged request final`);
  await settle(sources, join(runDir, 'acks.jsonl'), options.settleSeconds * 1000);
  await fake.callbacksSettled().catch(() => undefined);
  writeFileSync(
    join(runDir, 'channel-calls.jsonl'),
    fake.calls
      .map((c) =>
        JSON.stringify({
          seq: c.seq,
          messageId: c.messageId,
          to: c.to,
          status: c.status,
          receivedAt: c.receivedAt,
        }),
      )
      .join('\n') + '\n',
  );
  writeFileSync(
    join(runDir, 'receiver.jsonl'),
    receiver.deliveries
      .map((d) => JSON.stringify({ webhookId: d.id, status: d.status, body: d.body }))
      .join('\n') + '\n',
  );
  writeFileSync(join(runDir, 'workload.json'), `${JSON.stringify(workload.stats, null, 2)}\n`);
  for (const refused of workload.stats.refused.slice(0, 5)) log(`refused: ${refused}`);
  log('checking');
  const verdict = await check(runDir, sources);
  writeFileSync(join(runDir, 'verdict.json'), `${JSON.stringify(verdict, null, 2)}\n`);
  log(formatVerdict(verdict));
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // A CLI run keeps its schema, so `checker.ts <run dir>` can judge it again; the test drops it.
  await fleet.stop({ keepSchema: options.keepData ?? false });
  await Promise.allSettled([llm.stop(), receiver.close(), toxiproxy?.stop()]);
  const result: CampaignResult = {
    verdict: { ...verdict, ok: verdict.ok && crashed.length === 0 },
    faults,
    durationMs: Date.now() - started,
    workload: workload.stats,
    runDir,
    crashed,
  };
  writeFileSync(join(runDir, 'result.md'), resultTable(result, options));
  return result;
}

/** Waits until no acknowledged chat message, upload or job is short of a final state. */
async function settle(sources: CheckSources, ackFile: string, timeoutMs: number): Promise<void> {
  const { Client } = await import('pg');
  const { readJsonl } = await import('./checker');
  const acks = readJsonl<{ flow: string; id: string; jobId?: string }>(ackFile);
  const chat = acks.filter((a) => a.flow === 'chat').map((a) => a.id);
  const uploads = acks.filter((a) => a.flow === 'upload').map((a) => a.id);
  const jobs = acks.flatMap((a) => (a.flow === 'story' ? [a.jobId!] : a.flow === 'export' ? [a.id] : []));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pg = new Client({ connectionString: sources.databaseUrl });
    try {
      await pg.connect();
      await pg.query(`SET search_path TO "${sources.schema}"`);
      const open = await pg.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM messages WHERE id = ANY($1::uuid[]) AND status NOT IN ('DELIVERED','READ','FAILED'))
              + (SELECT count(*) FROM uploads WHERE id = ANY($2::uuid[]) AND status NOT IN ('COMPLETED','FAILED'))
              + (SELECT count(*) FROM jobs WHERE id = ANY($3::uuid[]) AND status NOT IN ('COMPLETED','FAILED','CANCELLED')) AS n`,
        [chat, uploads, jobs],
      );
      if (Number(open.rows[0]!.n) === 0) return;
    } catch {
      // PostgreSQL just restarted: ask again
    } finally {
      await pg.end().catch(() => undefined);
    }
    await sleep(2_000);
  }
}

async function postJson(
  apiUrl: string,
  token: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await request(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function createMap(apiUrl: string, token: string): Promise<string> {
  const response = await request(`${apiUrl}/v1/maps?filename=faults-world.md`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/markdown' },
    body: '# The North\nFrosthold is a town on the river road to Pinewatch.\n',
  });
  const created = (await response.body.json()) as { jobId: string };
  for (let i = 0; i < 600; i++) {
    const job = await request(`${apiUrl}/v1/jobs/${created.jobId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await job.body.json()) as { status: string };
    if (body.status === 'COMPLETED') return created.jobId;
    if (body.status === 'FAILED') throw new Error('the map for the exports failed before any fault');
    await sleep(200);
  }
  throw new Error('the map for the exports did not complete in 120 s');
}

async function startToxiproxy(
  env: Record<string, string>,
  pgProxyPort: number,
): Promise<{ proxy: Toxiproxy; process: AppProcess | undefined; stop(): Promise<void> }> {
  const bin = execFileSync('bash', ['tools/infra', 'tool', 'toxiproxy'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const port = await freePort();
  const { spawn } = await import('node:child_process');
  const child = spawn(bin, ['-host', '127.0.0.1', '-port', String(port)], { stdio: 'ignore' });
  const proxy = new Toxiproxy(`http://127.0.0.1:${port}`);
  for (let i = 0; ; i++) {
    try {
      await request(`${proxy.url}/version`).then((r) => r.body.text());
      break;
    } catch {
      if (i > 50) throw new Error('toxiproxy did not start');
      await sleep(100);
    }
  }
  await proxy.createProxy('kafka', env.KAFKA_FAULTS_PROXY!, env.KAFKA_FAULTS_LISTENER!);
  const pgPort = /:(\d+)\//.exec(env.DATABASE_URL!)![1];
  await proxy.createProxy('postgres', `127.0.0.1:${pgProxyPort}`, `127.0.0.1:${pgPort}`);
  return {
    proxy,
    process: undefined,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export function resultTable(result: CampaignResult, options: CampaignOptions): string {
  const rows = FAULT_KINDS.filter((k) => result.faults.some((f) => f.kind === k)).map((kind) => {
    const of = result.faults.filter((f) => f.kind === kind);
    const rec = of.map((f) => f.recoveryMs).filter((ms): ms is number => ms !== undefined);
    const failed = of.filter((f) => f.detail.startsWith('INJECTION FAILED')).length;
    const median = rec.length ? [...rec].sort((a, b) => a - b)[Math.floor(rec.length / 2)]! : undefined;
    return `| ${kind} | ${FAULT_NAMES[kind]} | ${of.length}${failed ? ` (${failed} failed to inject)` : ''} | ${
      median === undefined ? '—' : (median / 1000).toFixed(1)
    } | ${rec.length ? (Math.max(...rec) / 1000).toFixed(1) : '—'} |`;
  });
  const flows = result.verdict.flows.map(
    (f) =>
      `| ${f.flow} | ${f.acknowledged} | ${f.effected} | ${f.lost.length} | ${f.duplicates.length} | ${f.orderViolations.length} | ${f.stuck.length} | ${f.deadLettered} |`,
  );
  return [
    `Seed ${options.seed}, ${(result.durationMs / 60_000).toFixed(1)} minutes in all (${options.minutes} of faults), ` +
      `${result.faults.length} faults; checker: **${result.verdict.ok ? 'PASS' : 'FAIL'}**.`,
    '',
    '| kind | fault | injected | recovery median (s) | recovery max (s) |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    '',
    '| flow | acknowledged | effected | lost | duplicate effects | order violations | stuck | dead-lettered |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...flows,
    '',
    `Replicas that exited by themselves: ${result.crashed.length}. ` +
      `Workload: ${result.workload.retried} api calls retried (5xx or no answer), ${result.workload.abandoned} given up (never acknowledged), ` +
      `${result.workload.refused.length} refused with a 4xx.`,
    '',
  ].join('\n');
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      minutes: { type: 'string', default: '20' },
      kinds: { type: 'string', default: FAULT_KINDS.join(',') },
      repeat: { type: 'string', default: '3' },
      settle: { type: 'string', default: '240' },
      conversations: { type: 'string', default: '10' },
      out: { type: 'string' },
      mutant: { type: 'string' },
    },
  });
  const kinds = values.kinds.split(',').map((k) => k.trim().toUpperCase()) as FaultKind[];
  const unknown = kinds.filter((k) => !FAULT_KINDS.includes(k));
  if (unknown.length) {
    console.error(`unknown fault kind(s) ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
    process.exit(2);
  }
  const seed = Number(values.seed);
  const options: CampaignOptions = {
    seed,
    minutes: Number(values.minutes),
    kinds,
    repeat: Number(values.repeat),
    outDir:
      values.out ??
      join(ROOT, '.local/faults', `${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}`),
    settleSeconds: Number(values.settle),
    conversations: Number(values.conversations),
    ...(values.mutant ? { mutant: values.mutant as Mutant } : {}),
    keepData: true,
  };
  if (options.mutant && !(options.mutant in MUTANTS)) {
    console.error(`unknown mutant ${options.mutant}; known: ${Object.keys(MUTANTS).join(', ')}`);
    process.exit(2);
  }
  runCampaign(options).then(
    (result) => {
      const table = resultTable(result, options);
      console.log(`\n${table}`);
      const full = FAULT_KINDS.every((k) => result.faults.filter((f) => f.kind === k).length >= 3);
      if (full && options.minutes >= 20) {
        writeFileSync(join(ROOT, 'docs/faults.md'), faultsDoc(table));
        // The file is checked by prettier like every other document.
        execFileSync(join(ROOT, 'node_modules/.bin/prettier'), ['--write', 'docs/faults.md'], {
          cwd: ROOT,
          stdio: 'ignore',
        });
        console.log('docs/faults.md regenerated');
      }
      process.exit(result.verdict.ok ? 0 : 1);
    },
    (error: unknown) => {
      console.error(`faults: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(2);
    },
  );
}

function faultsDoc(table: string): string {
  return `# Fault campaign results\n\nRegenerated by \`npm run faults\` (a full run: every kind at least 3 times, at least 20 minutes). See tools/faults/README.md for what each fault does and what the checker reads.\n\n${table}`;
}
