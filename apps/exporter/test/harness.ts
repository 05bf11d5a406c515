/**
 * What the exporter integration tests share: the bundled exporter run as child processes (the
 * artifact that ships), the bundled outbox-poller publishing job requests and callbacks from the
 * outbox, and per fixture a fresh topic namespace and consumer groups, database schema (the api's
 * tables the exporter reads: outbox, jobs, uploads, pools, exports), MinIO bucket and local
 * signing key. Projects are made as the generation worker leaves them: a COMPLETED map_generation
 * job whose result names its `map.json` and `map.svg` in the bucket.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ALL_TOPICS,
  EXPORT_JOB_KIND,
  exportJobRequested,
  inNamespace,
  type ExportJobInput,
} from '@fleet/contracts';
import { sqlOf, type Sql } from '@fleet/db';
import { createTestSchema, type TestSchema } from '@fleet/db/testing';
import { EXPORT_MIGRATIONS, ExportStore } from '@fleet/exports';
import { createKafkaClient, provisionTopics, type KafkaClient } from '@fleet/kafka';
import { captureLogger } from '@fleet/kafka/testing';
import { JOB_MIGRATIONS, JobStore, type Job } from '@fleet/jobs';
import { type ObjectStore } from '@fleet/object-store';
import { createTestBucket } from '@fleet/object-store/testing';
import { OUTBOX_MIGRATIONS } from '@fleet/outbox';
import { POOL_MIGRATIONS } from '@fleet/pools';
import { AppProcess, buildAppBundle, readLocalEnv, WORKSPACE_ROOT } from '@fleet/service-kit/testing';
import { type PublicKeyEntry } from '@fleet/signing';
import { UPLOAD_MIGRATIONS } from '@fleet/uploads';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://fleet:fleet@127.0.0.1:5432/fleet';
export const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CALLBACK_SECRET = 'exporter-test-callback-secret';
export const OWNER = 'designer-1';

/** A small overworld as the generation worker's map.json has it (version 1, laid out). */
export function sampleMap(jobId: string) {
  return {
    version: 1 as const,
    jobId,
    source: { filename: 'world.md', sections: 3 },
    width: 900,
    height: 600,
    regions: [
      {
        name: 'Northern Reach',
        description: 'Cold hills and pine forests.',
        x: 20,
        y: 20,
        width: 420,
        height: 260,
      },
      {
        name: 'Sunken Coast',
        description: 'Tidal flats, "drowned" villages.',
        x: 460,
        y: 20,
        width: 420,
        height: 260,
      },
      {
        name: 'Ash/Vale: the old kingdom.',
        description: 'A volcanic valley.',
        x: 20,
        y: 300,
        width: 860,
        height: 280,
      },
    ],
    places: [
      { name: 'Frosthold', region: 'Northern Reach', kind: 'town', x: 120, y: 110 },
      { name: 'Pinewatch', region: 'Northern Reach', kind: 'fort', x: 300, y: 180 },
      { name: 'Saltmere', region: 'Sunken Coast', kind: 'village', x: 560, y: 90 },
      { name: 'The Drowned Bell', region: 'Sunken Coast', kind: 'ruin', x: 760, y: 200 },
      { name: 'Cinder Gate', region: 'Ash/Vale: the old kingdom.', kind: 'city', x: 200, y: 420 },
      { name: 'Emberfall', region: 'Ash/Vale: the old kingdom.', kind: 'temple', x: 640, y: 480 },
    ],
    routes: [
      { from: 'Frosthold', to: 'Pinewatch', kind: 'road', x1: 120, y1: 110, x2: 300, y2: 180 },
      { from: 'Pinewatch', to: 'Saltmere', kind: 'trail', x1: 300, y1: 180, x2: 560, y2: 90 },
      { from: 'Saltmere', to: 'The Drowned Bell', kind: 'ferry', x1: 560, y1: 90, x2: 760, y2: 200 },
      { from: 'Pinewatch', to: 'Cinder Gate', kind: 'road', x1: 300, y1: 180, x2: 200, y2: 420 },
      { from: 'Cinder Gate', to: 'Emberfall', kind: 'river', x1: 200, y1: 420, x2: 640, y2: 480 },
    ],
  };
}
export type SampleMap = ReturnType<typeof sampleMap>;

/** An SVG of the map, as simple as the generation worker's (rectangles, lines, dots, labels). */
export function sampleSvg(map: SampleMap): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${map.width}" height="${map.height}" viewBox="0 0 ${map.width} ${map.height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fbfaf6"/>`,
    ...map.regions.map(
      (r) =>
        `<rect x="${r.x}" y="${r.y}" width="${r.width}" height="${r.height}" rx="18" fill="#e8f1e4" stroke="#8a8470"/>`,
    ),
    ...map.routes.map(
      (r) => `<line x1="${r.x1}" y1="${r.y1}" x2="${r.x2}" y2="${r.y2}" stroke="#7a5c3e" stroke-width="2"/>`,
    ),
    ...map.places.map(
      (p) =>
        `<circle cx="${p.x}" cy="${p.y}" r="5" fill="#b5442b"/><text x="${p.x + 8}" y="${p.y + 4}" font-size="11">${p.name.replace(/&/g, '&amp;')}</text>`,
    ),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}

/** A fresh Ed25519 key as PKCS#8 PEM in a temp file (what tools/fleet makes under .local/). */
export function localSigningKey(): { file: string; pem: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'exporter-key-'));
  const file = join(dir, 'signing-key.pem');
  writeFileSync(file, pem, { mode: 0o600 });
  return { file, pem };
}

/** verify.js, built once per test process from the same entry `npm run build` bundles. */
let verifyBundle: string | undefined;
export function verifyCli(): string {
  if (!verifyBundle) {
    verifyBundle = join(WORKSPACE_ROOT, 'dist/test/exporter/verify.js');
    execFileSync(process.execPath, ['tools/build.mjs', 'apps/exporter/src/verify.ts', verifyBundle], {
      cwd: WORKSPACE_ROOT,
      stdio: 'ignore',
    });
  }
  return verifyBundle;
}

/** Runs verify.js; its exit code and output. */
export function runVerify(zip: string, keysFile: string): { code: number; output: string } {
  try {
    const output = execFileSync(process.execPath, [verifyCli(), zip, '--keys', keysFile], {
      encoding: 'utf8',
    });
    return { code: 0, output };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, output: `${e.stdout}${e.stderr}` };
  }
}

export class ExporterFixture {
  readonly jobs = new JobStore();
  readonly exportStore = new ExportStore();
  readonly group: string;
  private readonly processes: AppProcess[] = [];

  private constructor(
    readonly namespace: string,
    readonly db: TestSchema,
    readonly objects: ObjectStore,
    private readonly bucketEnv: Record<string, string>,
    private readonly dropBucket: () => Promise<void>,
    readonly kafka: KafkaClient,
    readonly poller: AppProcess,
    readonly signingKey: { file: string; pem: string },
  ) {
    this.group = `exporter-${namespace}`;
    this.processes.push(poller);
  }

  static async create(): Promise<ExporterFixture> {
    buildAppBundle('exporter');
    const namespace = `exp${randomBytes(4).toString('hex')}`;
    const db = await createTestSchema({
      url: DATABASE_URL,
      migrations: [
        ...OUTBOX_MIGRATIONS,
        ...UPLOAD_MIGRATIONS,
        ...JOB_MIGRATIONS,
        ...POOL_MIGRATIONS,
        ...EXPORT_MIGRATIONS,
      ],
    });
    const bucket = await createTestBucket();
    const kafka = createKafkaClient({
      brokers: BROKERS.split(','),
      clientId: 'exporter-test',
      logger: captureLogger(),
    });
    await provisionTopics(
      kafka,
      ALL_TOPICS.map((topic) => inNamespace(topic, namespace)),
    );
    const poller = await AppProcess.start({
      app: 'outbox-poller',
      env: {
        DATABASE_URL,
        DATABASE_SCHEMA: db.schema,
        KAFKA_BROKERS: BROKERS,
        REDIS_URL,
        OUTBOX_POLL_INTERVAL_MS: '200',
        LOG_LEVEL: 'warn',
      },
    });
    await poller.waitForHealth('/health/live', 60_000);
    return new ExporterFixture(
      namespace,
      db,
      bucket.store,
      bucket.env,
      () => bucket.drop(),
      kafka,
      poller,
      localSigningKey(),
    );
  }

  workerEnv(): Record<string, string> {
    return {
      DATABASE_URL,
      DATABASE_SCHEMA: this.db.schema,
      KAFKA_BROKERS: BROKERS,
      KAFKA_TOPIC_NAMESPACE: this.namespace,
      REDIS_URL,
      EXPORTER_GROUP: this.group,
      EXPORTER_CALLBACK_GROUP: `${this.group}-callbacks`,
      EXPORTER_RETRY_INITIAL_BACKOFF_MS: '300',
      EXPORTER_SESSION_TIMEOUT_MS: '10000',
      JOB_REAPER_INTERVAL_MS: '1000',
      EXPORT_SIGNING_KEY_FILE: this.signingKey.file,
      WORKER_CALLBACK_SECRET: CALLBACK_SECRET,
      EXPORT_CALLBACK_ALLOWLIST: '127.0.0.1/32',
      EXPORT_CALLBACK_INITIAL_BACKOFF_MS: '200',
      ...this.bucketEnv,
      LOG_LEVEL: 'info',
      // The V8 flags every deployment runs it with (Helm values, docker-compose, tools/fleet).
      NODE_OPTIONS: readLocalEnv('exporter').NODE_OPTIONS ?? '',
    };
  }

  async startExporter({ ready = 'ready', ...env }: Record<string, string> = {}): Promise<AppProcess> {
    const worker = await AppProcess.start({ app: 'exporter', env: { ...this.workerEnv(), ...env } });
    this.processes.push(worker);
    await worker.waitForHealth(ready === 'live' ? '/health/live' : '/health/ready', 60_000);
    return worker;
  }

  /** The exporter replicas still running. */
  exporterProcesses(): AppProcess[] {
    return this.processes.filter(
      (p) => p.app === 'exporter' && p.child.exitCode === null && p.child.signalCode === null,
    );
  }

  /** Stops (SIGTERM) every exporter replica started so far. */
  async stopExporters(): Promise<void> {
    const exporters = this.processes.filter((p) => p.app === 'exporter');
    await Promise.all(exporters.map((p) => p.stop()));
  }

  sql(): Sql {
    return sqlOf(this.db.dataSource.manager);
  }

  /** A COMPLETED map job of `owner` with its artifacts in the bucket (or without, to test that). */
  async createProject(
    options: { owner?: string; artifacts?: boolean } = {},
  ): Promise<{ id: string; map: SampleMap }> {
    const id = randomUUID();
    const map = sampleMap(id);
    const keys = { json: `jobs/${id}/map.json`, svg: `jobs/${id}/map.svg` };
    if (options.artifacts !== false) {
      await this.objects.put(keys.json, Buffer.from(`${JSON.stringify(map, null, 2)}\n`));
      await this.objects.put(keys.svg, Buffer.from(sampleSvg(map)));
    }
    await this.sql().rows(
      `INSERT INTO jobs (id, kind, owner_id, status, input, result, progress, finished_at)
       VALUES ($1, 'map_generation', $2, 'COMPLETED', '{}'::jsonb, $3::jsonb, 100, now())`,
      [id, options.owner ?? OWNER, JSON.stringify({ artifacts: keys, regions: 3, places: 6, routes: 5 })],
    );
    return { id, map };
  }

  /** A campaign of the project with a few items in its pools (as the pool-filler stores them). */
  async createCampaign(projectId: string): Promise<string> {
    const seed = `camp-${randomBytes(3).toString('hex')}`;
    const sql = this.sql();
    await sql.rows(
      `INSERT INTO campaigns (campaign_seed, name, created_by, project_id) VALUES ($1, $2, 'ops', $3)`,
      [seed, 'The Ashen Crown', projectId],
    );
    await sql.rows(
      `INSERT INTO points_of_interest (campaign_seed, name, kind, description, position, model, job_id, item_index)
       VALUES ($1, 'Old Lighthouse ' || $1, 'landmark', 'A lighthouse whose lamp burns green.', '{"x": 120, "y": 340}', 'test', $2, 0),
              ($1, 'Smugglers Cave ' || $1, 'cave', 'A cave under the cliffs.', '{"x": 610, "y": 90}', 'test', $2, 1)`,
      [seed, randomUUID()],
    );
    await sql.rows(
      `INSERT INTO npc_personalities (campaign_seed, name, role, personality, traits, speech_style, backstory, model, job_id, item_index)
       VALUES ($1, $3, 'harbourmaster', 'Gruff but fair.', '["stubborn","loyal"]', 'Short sentences.', 'Lost her ship to the storm.', 'test', $2, 0)`,
      // Names are unique among available items: one Mira per campaign.
      [seed, randomUUID(), `Mira Tidewell of ${seed}`],
    );
    return seed;
  }

  /** A COMPLETED upload of the project whose object holds `bytes`. */
  async createAsset(projectId: string, filename: string, bytes: Buffer, owner = OWNER): Promise<string> {
    const id = randomUUID();
    const key = `uploads/${id}/final`;
    await this.objects.put(key, bytes);
    await this.sql().rows(
      `INSERT INTO uploads (id, owner_id, filename, content_type, size, expected_sha256, chunk_size, chunk_count,
                            status, sha256, final_key, project_id)
       VALUES ($1, $2, $3, 'application/octet-stream', $4, NULL, $4, 1, 'COMPLETED', $5, $6, $7)`,
      [id, owner, filename, bytes.length, createHash('sha256').update(bytes).digest('hex'), key, projectId],
    );
    return id;
  }

  /** A COMPLETED upload of the project whose object is streamed from `source` (large assets). */
  async createStreamedAsset(
    projectId: string,
    filename: string,
    source: AsyncIterable<Buffer>,
    owner = OWNER,
  ): Promise<{ id: string; key: string; size: number; sha256: string }> {
    const id = randomUUID();
    const key = `uploads/${id}/final`;
    const stored = await this.objects.putMultipart(key, source, { partSize: 8 * 1024 * 1024 });
    await this.sql().rows(
      `INSERT INTO uploads (id, owner_id, filename, content_type, size, expected_sha256, chunk_size, chunk_count,
                            status, sha256, final_key, project_id)
       VALUES ($1, $2, $3, 'application/octet-stream', $4, NULL, $4, 1, 'COMPLETED', $5, $6, $7)`,
      [id, owner, filename, stored.size, stored.sha256, key, projectId],
    );
    return { id, key, size: stored.size, sha256: stored.sha256 };
  }

  /** An export job and its request in one transaction, as the api creates it. */
  async createExport(input: Partial<ExportJobInput> & { projectId: string }, owner = OWNER): Promise<Job> {
    const id = randomUUID();
    const full: ExportJobInput = {
      engines: ['godot', 'unity', 'ue5'],
      includeAssets: false,
      quality: 'low',
      seed: id,
      godotVersion: 4,
      ...input,
    };
    const { job } = await this.db.dataSource.transaction((tx) =>
      this.jobs.create(
        tx,
        { id, kind: EXPORT_JOB_KIND, ownerId: owner, input: full, maxAttempts: 3 },
        inNamespace(exportJobRequested, this.namespace),
      ),
    );
    return job;
  }

  async waitForJob(id: string, done: (job: Job) => boolean, timeoutMs = 60_000): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.jobs.get(this.sql(), id);
      if (job && done(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} timed out: ${JSON.stringify(job)}`);
      await sleep(100);
    }
  }

  waitForFinished(id: string, timeoutMs = 60_000): Promise<Job> {
    return this.waitForJob(id, (j) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(j.status), timeoutMs);
  }

  /** The keys published in `export_signing_keys`, written as GET /v1/exports/keys answers them. */
  async keysFile(): Promise<{ file: string; keys: PublicKeyEntry[] }> {
    const keys = (await this.exportStore.publishedKeys(this.sql())) as unknown as PublicKeyEntry[];
    const file = join(mkdtempSync(join(tmpdir(), 'exporter-keys-')), 'keys.json');
    writeFileSync(file, JSON.stringify({ keys }));
    return { file, keys };
  }

  /** Downloads an object into a temp file; its path. */
  async download(key: string): Promise<string> {
    const file = join(mkdtempSync(join(tmpdir(), 'exporter-zip-')), key.split('/').pop()!);
    const { createWriteStream } = await import('node:fs');
    const { pipeline } = await import('node:stream/promises');
    await pipeline(await this.objects.get(key), createWriteStream(file));
    return file;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.processes.map((p) => p.stop()));
    await this.kafka
      .admin()
      .disconnect()
      .catch(() => undefined);
    await this.db.drop();
    await this.dropBucket();
  }
}

/** Every entry of a zip, in archive order, with its bytes (test bundles are small). */
export async function readZip(
  file: string,
): Promise<{ name: string; data: Buffer; offset: number; compressed: boolean }[]> {
  const yauzl = (await import('yauzl')).default;
  const zip = await new Promise<import('yauzl').ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (error, z) => (error ? reject(error) : resolve(z))),
  );
  const out: { name: string; data: Buffer; offset: number; compressed: boolean }[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: import('yauzl').Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          out.push({
            name: entry.fileName,
            data: Buffer.concat(parts),
            offset: entry.relativeOffsetOfLocalHeader,
            compressed: entry.compressionMethod !== 0,
          });
          zip.readEntry();
        });
      });
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}

/** Writes a zip of `entries` (in order) with yazl: how a tamperer would repack a bundle. */
export async function writeZip(file: string, entries: { name: string; data: Buffer }[]): Promise<void> {
  const { ZipFile } = await import('yazl');
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const zip = new ZipFile();
  for (const e of entries) zip.addBuffer(e.data, e.name);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
