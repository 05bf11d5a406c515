/**
 * Issue 17's memory and speed goal: an export with `include_assets` of 1 GiB of uploaded files
 * (8 × 128 MiB, pseudo-random so nothing compresses) through one bundled exporter replica —
 * its RSS sampled from /proc every 50 ms — against the honest reference: the same bytes read from
 * the same MinIO and written back as one multipart object with the same part size (what the
 * export must do at the least), in the same run, before and after the export.
 *
 *   npm run bench:export            (servers from tools/infra; EXPORT_BENCH_MIB to change the size,
 *                                    EXPORT_BENCH_NODE_OPTIONS the exporter's V8 flags)
 *
 * Goals: exporter RSS peak < 256 MiB; export throughput ≥ 0.6 × the raw copy's.
 */
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ExporterFixture } from '../../apps/exporter/test/harness';

const MiB = 1024 * 1024;
const TOTAL_MIB = Number(process.env.EXPORT_BENCH_MIB ?? 1024);
const FILES = 8;
const PART = 8 * MiB;

/** `size` bytes of AES-CTR keystream in 1 MiB chunks: incompressible, never held whole. */
async function* bytes(size: number, seed: number): AsyncGenerator<Buffer> {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed, 0);
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), iv);
  const zeros = Buffer.alloc(MiB);
  for (let sent = 0; sent < size; sent += MiB)
    yield cipher.update(zeros.subarray(0, Math.min(MiB, size - sent)));
}

const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
/** Resident bytes of the process' brk heap (glibc malloc's main arena: native allocations). */
const mallocHeapOf = (pid: number) =>
  Number(/\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps`, 'utf8'))?.[1] ?? 0) *
  1024;

async function main(): Promise<void> {
  const fx = await ExporterFixture.create();
  try {
    const project = await fx.createProject();
    const fileSize = Math.floor((TOTAL_MIB * MiB) / FILES);
    const assets: Awaited<ReturnType<ExporterFixture['createStreamedAsset']>>[] = [];
    for (let i = 0; i < FILES; i++)
      assets.push(await fx.createStreamedAsset(project.id, `asset-${i}.bin`, bytes(fileSize, i)));
    const total = assets.reduce((n, a) => n + a.size, 0);

    /** The reference: every asset read from MinIO and written as one multipart object. */
    const rawCopy = async (label: string) => {
      const started = performance.now();
      async function* concatenated() {
        for (const asset of assets)
          for await (const chunk of await fx.objects.get(asset.key)) yield chunk as Buffer;
      }
      const out = await fx.objects.putMultipart(`bench/raw-${label}.bin`, concatenated(), { partSize: PART });
      const seconds = (performance.now() - started) / 1000;
      if (out.size !== total) throw new Error(`raw copy wrote ${out.size} bytes, expected ${total}`);
      await fx.objects.remove([`bench/raw-${label}.bin`]);
      return seconds;
    };

    const nodeOptions = process.env.EXPORT_BENCH_NODE_OPTIONS ?? fx.workerEnv().NODE_OPTIONS ?? '';
    const rawBefore = await rawCopy('before');
    const exporter = await fx.startExporter({
      EXPORT_PART_SIZE_BYTES: String(PART),
      LOG_LEVEL: 'warn',
      // As deployed (apps/exporter/local.env, the same in Helm and compose), unless
      // EXPORT_BENCH_NODE_OPTIONS says otherwise ('' for node's defaults).
      NODE_OPTIONS: nodeOptions,
    });
    const pid = exporter.child.pid!;
    const idle = rssOf(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(pid));
    }, 50);
    /** Where the memory is, every 250 ms: V8 heap (committed), Buffers outside it, malloc's heap. */
    const parts = { heap: 0, external: 0, malloc: 0 };
    let sampling = true;
    const breakdown = (async () => {
      while (sampling) {
        const [heap, external] = await Promise.all([
          exporter.metric('nodejs_heap_size_total_bytes'),
          exporter.metric('nodejs_external_memory_bytes'),
        ]).catch(() => [0, 0]);
        parts.heap = Math.max(parts.heap, heap ?? 0);
        parts.external = Math.max(parts.external, external ?? 0);
        parts.malloc = Math.max(parts.malloc, mallocHeapOf(pid));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const started = performance.now();
    const job = await fx.createExport({
      projectId: project.id,
      engines: ['godot'],
      includeAssets: true,
      quality: 'low',
    });
    const done = await fx.waitForFinished(job.id, 30 * 60_000);
    const exportSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    sampling = false;
    await breakdown;
    if (done.status !== 'COMPLETED') throw new Error(`export ${done.status}: ${done.error}`);
    const bundle = (done.result as { bundles: { size: number }[] }).bundles[0]!;
    await exporter.stop();
    const rawAfter = await rawCopy('after');

    const rawSeconds = (rawBefore + rawAfter) / 2;
    const mibps = (bytesDone: number, s: number) => bytesDone / MiB / s;
    const ratio = rawSeconds / exportSeconds;
    const lines = [
      `assets: ${FILES} files, ${(total / MiB).toFixed(0)} MiB; archive ${(bundle.size / MiB).toFixed(1)} MiB (godot, quality low)`,
      `raw MinIO copy (read + multipart write, ${PART / MiB} MiB parts): ${rawBefore.toFixed(2)} s before, ${rawAfter.toFixed(2)} s after → ${mibps(total, rawSeconds).toFixed(0)} MiB/s`,
      `export (request → COMPLETED, one replica, NODE_OPTIONS=${nodeOptions || '(none)'}): ${exportSeconds.toFixed(2)} s → ${mibps(total, exportSeconds).toFixed(0)} MiB/s`,
      `throughput ratio export / raw: ${ratio.toFixed(2)} (goal ≥ 0.6: ${ratio >= 0.6 ? 'met' : 'NOT met'})`,
      `exporter RSS: idle ${(idle / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (goal < 256 MiB: ${peak < 256 * MiB ? 'met' : 'NOT met'})`,
      `  highest during the export: V8 heap ${(parts.heap / MiB).toFixed(0)} MiB committed, Buffers outside it ${(parts.external / MiB).toFixed(0)} MiB, malloc heap ${(parts.malloc / MiB).toFixed(0)} MiB`,
    ];
    for (const line of lines) process.stdout.write(`${line}\n`);
  } finally {
    await fx.stop();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
