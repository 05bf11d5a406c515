/**
 * Issue 17's acceptance on the real local servers, at the worker: export jobs as the api creates
 * them, run by bundled exporter replicas, their archives read back from MinIO and checked with
 * the shipped verify.js; callbacks delivered to a fake receiver that checks signatures.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportCallbackRequested, inNamespace } from '@fleet/contracts';
import { recordTopic, waitFor } from '@fleet/kafka/testing';
import { callbackEventId } from '@fleet/webhooks';
import { startFakeReceiver } from '@fleet/webhooks/testing';
import { type Job } from '@fleet/jobs';
import { CALLBACK_SECRET, ExporterFixture, readZip, runVerify, sha256, writeZip } from './harness';

const MiB = 1024 * 1024;

interface Bundle {
  engine: string;
  key: string;
  size: number;
  sha256: string;
}
const bundlesOf = (result: unknown) => (result as { bundles: Bundle[] }).bundles;

describe('exporter: bundles, signatures, callbacks (local Kafka, PostgreSQL, Redis, MinIO)', () => {
  let fx: ExporterFixture;
  let receiver: Awaited<ReturnType<typeof startFakeReceiver>>;
  before(async () => {
    fx = await ExporterFixture.create();
    receiver = await startFakeReceiver({ secret: CALLBACK_SECRET });
  });
  after(async () => {
    await receiver?.close();
    await fx?.stop();
  });

  test('a project with a campaign and an uploaded file → one signed zip per engine that verify.js accepts', async () => {
    const exporter = await fx.startExporter();
    const project = await fx.createProject();
    await fx.createCampaign(project.id);
    const asset = randomBytes(3 * MiB);
    await fx.createAsset(project.id, 'rock texture.png', asset);
    const job = await fx.createExport({
      projectId: project.id,
      includeAssets: true,
      manifest: { studio: 'Ash & Co' },
    });
    const done = await fx.waitForFinished(job.id);
    assert.equal(done.status, 'COMPLETED', done.error ?? '');
    const bundles = bundlesOf(done.result);
    assert.deepEqual(
      bundles.map((b) => b.engine),
      ['godot', 'ue5', 'unity'],
    );
    const { file: keys } = await fx.keysFile();

    for (const bundle of bundles) {
      assert.equal(bundle.key, `exports/${job.id}/${bundle.engine}.zip`);
      const zip = await fx.download(bundle.key);
      assert.equal(sha256(readFileSync(zip)), bundle.sha256, 'the result states the stored bytes');
      const verdict = runVerify(zip, keys);
      assert.equal(verdict.code, 0, verdict.output);
      assert.match(verdict.output, /^OK /);

      const entries = await readZip(zip);
      assert.equal(entries.at(-1)!.name, 'manifest.json', 'the manifest is the last entry');
      const names = entries.map((e) => e.name);
      assert.deepEqual(names.slice(0, -1), [...names.slice(0, -1)].sort(), 'entries in path order');
      const manifest = JSON.parse(entries.at(-1)!.data.toString()) as {
        request: Record<string, unknown>;
        files: { path: string; size: number; sha256: string }[];
        signature: { algorithm: string; keyId: string };
      };
      assert.equal(manifest.signature.algorithm, 'Ed25519');
      assert.equal(manifest.request.engine, bundle.engine);
      assert.deepEqual(manifest.request.manifest, { studio: 'Ash & Co' });
      assert.equal(manifest.request.seed, job.id);
      assert.equal(manifest.files.length, entries.length - 1);
      // The upload, byte for byte, stored (not deflated); the map texture as a PNG.
      const uploaded = entries.find((e) => e.name.endsWith('/files/rock texture.png'));
      assert.ok(uploaded, `the upload is in the ${bundle.engine} bundle: ${names.join(', ')}`);
      assert.ok(uploaded.data.equals(asset));
      assert.equal(uploaded.compressed, false);
      const texture = entries.find((e) => e.name.endsWith('/textures/map.png'));
      assert.ok(texture);
      assert.equal(texture.data.subarray(1, 4).toString(), 'PNG');
      assert.equal(texture.data.readUInt32BE(16), 1024, 'quality low: the longest side is 1024 px');
      // The campaign's content reaches every engine (by name, whatever the format).
      const text = entries.map((e) => (e.compressed ? e.data.toString('utf8') : '')).join('\n');
      for (const name of ['Frosthold', 'Cinder Gate', 'Old Lighthouse', 'Mira Tidewell']) {
        assert.ok(text.includes(name), `${bundle.engine} carries ${name}`);
      }
    }
    assert.deepEqual(await fx.objects.incompleteUploads(`exports/${job.id}/`), []);
    const written = await exporter.metric('exporter_bundles_total', {
      engine: 'godot',
      outcome: 'completed',
    });
    assert.ok((written ?? 0) >= 1);
  });

  test('verify.js names the first mismatch: a flipped byte, an added file, an edited manifest', async () => {
    const project = await fx.createProject();
    await fx.createAsset(project.id, 'notes.bin', randomBytes(64 * 1024));
    const job = await fx.createExport({ projectId: project.id, engines: ['godot'], includeAssets: true });
    const done = await fx.waitForFinished(job.id);
    assert.equal(done.status, 'COMPLETED', done.error ?? '');
    const zip = await fx.download(bundlesOf(done.result)[0]!.key);
    const { file: keys } = await fx.keysFile();
    const entries = await readZip(zip);

    // One byte of a stored entry's data flipped in place.
    const target = entries.find((e) => e.name.endsWith('/files/notes.bin'))!;
    const bytes = readFileSync(zip);
    const nameLength = bytes.readUInt16LE(target.offset + 26);
    const extraLength = bytes.readUInt16LE(target.offset + 28);
    bytes[target.offset + 30 + nameLength + extraLength + 100]! ^= 0x01;
    const flipped = `${zip}.flipped.zip`;
    writeFileSync(flipped, bytes);
    const onFlip = runVerify(flipped, keys);
    assert.equal(onFlip.code, 1, onFlip.output);
    assert.match(
      onFlip.output,
      new RegExp(`FAIL .*${target.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} SHA-256 is`),
    );

    const added = `${zip}.added.zip`;
    await writeZip(added, [
      ...entries.slice(0, -1),
      { name: 'godot/extra.gd', data: Buffer.from('print(1)\n') },
      entries.at(-1)!,
    ]);
    const onAdd = runVerify(added, keys);
    assert.equal(onAdd.code, 1, onAdd.output);
    assert.match(onAdd.output, /godot\/extra\.gd is not listed in the manifest/);

    const manifest = JSON.parse(entries.at(-1)!.data.toString()) as { request: { quality: string } };
    manifest.request.quality = 'high';
    const edited = `${zip}.edited.zip`;
    await writeZip(edited, [
      ...entries.slice(0, -1),
      { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
    ]);
    const onEdit = runVerify(edited, keys);
    assert.equal(onEdit.code, 1, onEdit.output);
    assert.match(onEdit.output, /manifest\.json signature does not verify/);

    // An unknown key is named too; and a repacked but unchanged bundle still verifies.
    const repacked = `${zip}.repacked.zip`;
    await writeZip(repacked, entries);
    assert.equal(runVerify(repacked, keys).code, 0);
    const strangers = `${zip}.keys.json`;
    writeFileSync(strangers, JSON.stringify({ keys: [] }));
    assert.match(runVerify(repacked, strangers).output, /not among the published keys/);
  });

  test('two exports of one project, options and seed on two different replicas are byte-identical', async () => {
    const project = await fx.createProject();
    await fx.createCampaign(project.id);
    await fx.createAsset(project.id, 'a.bin', randomBytes(MiB));
    const shaOf = async (replica: Awaited<ReturnType<ExporterFixture['startExporter']>>) => {
      const job = await fx.createExport({
        projectId: project.id,
        includeAssets: true,
        seed: 'same-seed',
        quality: 'medium',
      });
      const done = await fx.waitForFinished(job.id);
      assert.equal(done.status, 'COMPLETED', done.error ?? '');
      await replica.stop();
      return bundlesOf(done.result).map((b) => `${b.engine}:${b.sha256}:${b.size}`);
    };
    // The first test's replica is still running: stop it so each export has one replica only.
    await fx.stopExporters();
    const first = await shaOf(await fx.startExporter());
    const second = await shaOf(await fx.startExporter());
    assert.deepEqual(second, first);
    const other = await fx.startExporter();
    const job = await fx.createExport({
      projectId: project.id,
      includeAssets: true,
      seed: 'another-seed',
      quality: 'medium',
    });
    const done = await fx.waitForFinished(job.id);
    assert.notDeepEqual(
      bundlesOf(done.result).map((b) => b.sha256),
      first.map((s) => s.split(':')[1]),
      'another seed gives other archives',
    );
    void other;
  });

  test('a project whose artifacts vanished: FAILED at once (no retries), and export.failed reaches the callback', async () => {
    const project = await fx.createProject({ artifacts: false });
    const job = await fx.createExport({ projectId: project.id, callbackUrl: receiver.url });
    const done = await fx.waitForFinished(job.id);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.attempts, 1);
    assert.match(
      done.error ?? '',
      /artifacts are gone from object storage: jobs\/.*\/map\.json, jobs\/.*\/map\.svg/,
    );
    const eventId = callbackEventId(job.id, 'export.failed');
    await receiver.waitForEvents(1, 30_000);
    const event = receiver.events.get(eventId) as { type: string; data: { error: { code: string } } };
    assert.ok(event, `event ${eventId} delivered`);
    assert.equal(event.type, 'export.failed');
    assert.equal(event.data.error.code, 'ARTIFACTS_MISSING');
  });

  test('a receiver that fails its first two deliveries gets export.completed once: three deliveries, one event id', async () => {
    const flaky = await startFakeReceiver({ secret: CALLBACK_SECRET, failFirst: 2 });
    try {
      const project = await fx.createProject();
      const job = await fx.createExport({ projectId: project.id, engines: ['ue5'], callbackUrl: flaky.url });
      assert.equal((await fx.waitForFinished(job.id)).status, 'COMPLETED');
      await flaky.waitForEvents(1, 30_000);
      await sleep(1_500);
      const ids = new Set(flaky.deliveries.map((d) => d.id));
      assert.deepEqual([...ids], [callbackEventId(job.id, 'export.completed')]);
      assert.equal(flaky.deliveries.length, 3, JSON.stringify(flaky.deliveries.map((d) => d.status)));
      assert.deepEqual(
        flaky.deliveries.map((d) => d.status),
        [503, 503, 200],
      );
      assert.equal(flaky.events.size, 1);
      assert.deepEqual(flaky.rejected, [], 'every delivery was signed correctly and fresh');
    } finally {
      await flaky.close();
    }
  });

  test('the callback topic replayed after a delivery (a reset consumer, a re-synced mirror): export.completed is not POSTed again', async () => {
    const sink = await startFakeReceiver({ secret: CALLBACK_SECRET });
    const producer = fx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const topic = inNamespace(exportCallbackRequested, fx.namespace).name;
    const recording = await recordTopic(fx.kafka, topic);
    try {
      const project = await fx.createProject();
      const job = await fx.createExport({ projectId: project.id, engines: ['ue5'], callbackUrl: sink.url });
      assert.equal((await fx.waitForFinished(job.id)).status, 'COMPLETED');
      await sink.waitForEvents(1, 30_000);
      // The export's callback request read back and produced again, unchanged, twice.
      const ours = () => recording.messages.filter((m) => m.value?.toString().includes(job.id));
      await recording.until('the callback request on its topic', () => ours().length === 1, 30_000);
      const copy = ours()[0]!;
      const duplicates = async () =>
        (
          await Promise.all(
            fx.exporterProcesses().map((p) =>
              p.metric('exporter_callback_deliveries_total', {
                type: 'export.completed',
                outcome: 'duplicate',
              }),
            ),
          )
        ).reduce<number>((a, b) => a + (b ?? 0), 0);
      const before = await duplicates();
      await producer.connect();
      const record = { key: copy.key, value: copy.value, headers: copy.headers };
      await producer.send({ topic, acks: -1, messages: [record, record] });
      await waitFor(
        'both replayed requests seen and skipped',
        async () => (await duplicates()) - before === 2,
        30_000,
      );
      await sleep(500);
      assert.equal(sink.deliveries.length, 1, JSON.stringify(sink.deliveries.map((d) => d.status)));
    } finally {
      await Promise.allSettled([recording.stop(), producer.disconnect()]);
      await sink.close();
    }
  });

  /**
   * A project with one 160 MiB upload, its Godot export (with `callbackUrl` when given) created,
   * and the moment its multipart upload has begun: a replica must already be running.
   */
  async function exportMidUpload(callbackUrl?: string): Promise<{ job: Job; asset: Buffer }> {
    const project = await fx.createProject();
    const asset = randomBytes(160 * MiB);
    await fx.createAsset(project.id, 'big.bin', asset);
    const job = await fx.createExport({
      projectId: project.id,
      engines: ['godot'],
      includeAssets: true,
      ...(callbackUrl ? { callbackUrl } : {}),
    });
    const deadline = Date.now() + 60_000;
    while ((await fx.objects.incompleteUploads(`exports/${job.id}/`)).length === 0) {
      assert.ok(Date.now() < deadline, 'the upload started');
      await sleep(10);
    }
    return { job, asset };
  }

  test('SIGTERM mid-upload with time to drain: the replica finishes the export, then exits 0', async () => {
    await fx.stopExporters();
    const replica = await fx.startExporter({ EXPORT_PART_SIZE_BYTES: String(5 * MiB) });
    const { job, asset } = await exportMidUpload();
    const exited = replica.stop('SIGTERM');
    const atSignal = await fx.jobs.get(fx.sql(), job.id);
    assert.equal(atSignal?.status, 'PROCESSING', 'the signal came while the export ran');

    assert.deepEqual(await exited, { code: 0, signal: null }, replica.tail());
    const done = await fx.jobs.get(fx.sql(), job.id);
    assert.equal(done?.status, 'COMPLETED', 'finished before the process exited');
    assert.equal(done.attempts, 1);
    assert.deepEqual(await fx.objects.incompleteUploads(`exports/${job.id}/`), []);
    const zip = await fx.download(bundlesOf(done.result)[0]!.key);
    assert.equal(runVerify(zip, (await fx.keysFile()).file).code, 0);
    const entries = await readZip(zip);
    assert.ok(entries.find((e) => e.name.endsWith('/files/big.bin'))!.data.equals(asset));
  });

  test('SIGTERM with a drain shorter than the export: the upload is aborted, the job released and completed by another replica, one callback', async () => {
    await fx.stopExporters();
    const env = { EXPORT_PART_SIZE_BYTES: String(5 * MiB), EXPORTER_SHUTDOWN_DRAIN_MS: '100' };
    const leaving = await fx.startExporter(env);
    const sink = await startFakeReceiver({ secret: CALLBACK_SECRET });
    try {
      const { job } = await exportMidUpload(sink.url);
      const exited = leaving.stop('SIGTERM');
      assert.deepEqual(await exited, { code: 0, signal: null }, leaving.tail());

      // Before any other replica runs: the leaving one aborted its own upload and gave the job back.
      assert.deepEqual(await fx.objects.incompleteUploads(`exports/${job.id}/`), [], 'upload aborted');
      const released = await fx.jobs.get(fx.sql(), job.id);
      assert.equal(released?.status, 'PENDING', JSON.stringify(released));
      assert.equal(released.attempts, 0, 'a released attempt is not counted');
      assert.match(released.error ?? '', /^released at shutdown/);
      assert.ok(
        leaving.logs().some((l) => l.message === 'job released at shutdown and requeued for another worker'),
        leaving.tail(),
      );
      assert.equal(sink.deliveries.length, 0, 'no callback for a released attempt');

      await fx.startExporter(env);
      const done = await fx.waitForFinished(job.id, 120_000);
      assert.equal(done.status, 'COMPLETED', done.error ?? '');
      assert.equal(done.attempts, 1);
      assert.deepEqual(await fx.objects.incompleteUploads(`exports/${job.id}/`), []);
      const zip = await fx.download(bundlesOf(done.result)[0]!.key);
      assert.equal(runVerify(zip, (await fx.keysFile()).file).code, 0);
      await sink.waitForEvents(1, 30_000);
      await sleep(1_500);
      assert.deepEqual(
        sink.deliveries.map((d) => d.id),
        [callbackEventId(job.id, 'export.completed')],
      );
    } finally {
      await sink.close();
    }
  });

  test('an exporter SIGKILLed mid-upload: another replica completes the job, no multipart upload is left, one callback', async () => {
    await fx.stopExporters();
    const fast = {
      JOB_LEASE_MS: '3000',
      EXPORT_PART_SIZE_BYTES: String(5 * MiB),
      EXPORTER_SESSION_TIMEOUT_MS: '6000',
    };
    const doomed = await fx.startExporter(fast);
    const sink = await startFakeReceiver({ secret: CALLBACK_SECRET });
    try {
      const { job } = await exportMidUpload(sink.url);
      await doomed.stop('SIGKILL');
      const killedAt = await fx.jobs.get(fx.sql(), job.id);
      assert.equal(killedAt?.status, 'PROCESSING', 'killed while the job was running');

      await fx.startExporter(fast);
      const done = await fx.waitForFinished(job.id, 120_000);
      assert.equal(done.status, 'COMPLETED', done.error ?? '');
      assert.equal(done.attempts, 2, 'the killed attempt counted, the second completed');
      assert.deepEqual(await fx.objects.incompleteUploads(`exports/${job.id}/`), [], 'no orphaned upload');
      const zip = await fx.download(bundlesOf(done.result)[0]!.key);
      assert.equal(runVerify(zip, (await fx.keysFile()).file).code, 0);
      await sink.waitForEvents(1, 30_000);
      await sleep(1_500);
      assert.deepEqual(
        [...new Set(sink.deliveries.map((d) => d.id))],
        [callbackEventId(job.id, 'export.completed')],
      );
      assert.equal(sink.events.size, 1);
    } finally {
      await sink.close();
    }
  });
});
