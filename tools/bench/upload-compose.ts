/**
 * Benchmark (not a test): server-side compose of uploaded chunks, as file-merge does it, against one
 * raw streamed upload of the same bytes.
 *
 *   npm run bench:compose        (MinIO from tools/infra; SIZE_MIB=256 PART_MIB=5 ROUNDS=3 by default)
 *
 * In one run, on the local MinIO (the MINIO_* variables of `tools/infra env`, or its defaults), in
 * a fresh bucket removed at the end:
 *  0. SIZE_MIB of random bytes, split into PART_MIB parts, each uploaded as its own object (not
 *     timed: that is the clients' upload, not the merge);
 *  then ROUNDS times:
 *  1. compose: `ObjectStore.compose` of the parts into one object (S3 UploadPartCopy, MinIO copies
 *     the bytes internally; none pass through this process), timed;
 *  2. put: `ObjectStore.put` (minio-js `putObject`) of the same bytes as one Readable of known size,
 *     timed — the single-stream upload the composed object replaces.
 * The composed object's size is checked every round, its sha256 against the source's once (not
 * timed). Prints each round, the median round (by ratio), and the ratio compose/put (goal ≥ 0.9),
 * with the CPU MinIO and this process used during each.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { ObjectStore, objectStoreEnv } from '@fleet/object-store';
import { cpuByGroup, cpuSince } from './cpu';

const MiB = 1024 * 1024;
const SIZE_MIB = Number(process.env.SIZE_MIB ?? 256);
const PART_MIB = Number(process.env.PART_MIB ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const STREAM_CHUNK = 64 * 1024;

const CPU_GROUPS = {
  minio: (c: string) => /\bminio\S* server\b/.test(c),
  bench: (c: string) => c.includes('upload-compose.ts'),
};

interface Round {
  composeSeconds: number;
  putSeconds: number;
  composeCpu: string;
  putCpu: string;
}

const rate = (seconds: number) => SIZE_MIB / seconds;

/** The bytes as a stream of 64 KiB slices, as a request body would arrive. */
function streamOf(data: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < data.length; offset += STREAM_CHUNK)
        yield data.subarray(offset, offset + STREAM_CHUNK);
    })(),
  );
}

async function timed(work: () => Promise<void>): Promise<{ seconds: number; cpu: string }> {
  const cpu = cpuByGroup(CPU_GROUPS);
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  return { seconds, cpu: cpuSince(CPU_GROUPS, cpu) };
}

async function main(): Promise<void> {
  if (![SIZE_MIB, PART_MIB, ROUNDS].every((n) => Number.isInteger(n) && n > 0) || PART_MIB < 5) {
    throw new Error('SIZE_MIB, PART_MIB and ROUNDS must be positive integers, PART_MIB ≥ 5 (S3 compose)');
  }
  const bucket = `bench-compose-${randomUUID().slice(0, 8)}`;
  const store = new ObjectStore(
    objectStoreEnv.parse({
      MINIO_ENDPOINT: process.env.MINIO_ENDPOINT ?? '127.0.0.1',
      MINIO_PORT: process.env.MINIO_PORT ?? '9000',
      MINIO_USE_SSL: process.env.MINIO_USE_SSL ?? 'false',
      MINIO_ACCESS_KEY: process.env.MINIO_ACCESS_KEY ?? 'fleet-minio',
      MINIO_SECRET_KEY: process.env.MINIO_SECRET_KEY ?? 'fleet-minio-secret',
      MINIO_BUCKET: bucket,
    }),
  );
  await store.ensureBucket();
  try {
    const size = SIZE_MIB * MiB;
    const partSize = PART_MIB * MiB;
    const data = randomBytes(size);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const parts: string[] = [];
    const uploading = performance.now();
    for (let offset = 0, n = 0; offset < size; offset += partSize, n++) {
      const key = `parts/${String(n).padStart(6, '0')}`;
      await store.put(key, data.subarray(offset, Math.min(offset + partSize, size)));
      parts.push(key);
    }
    console.log(
      `bucket ${bucket}: ${SIZE_MIB} MiB in ${parts.length} parts of ${PART_MIB} MiB uploaded in ` +
        `${((performance.now() - uploading) / 1000).toFixed(1)} s (not timed)`,
    );

    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const composedKey = `composed/${round}`;
      const singleKey = `single/${round}`;
      const compose = await timed(() => store.compose(composedKey, parts));
      const composedSize = (await store.stat(composedKey))?.size;
      if (composedSize !== size) throw new Error(`composed object is ${composedSize} bytes, not ${size}`);
      if (round === 1) {
        const composedSha = await store.sha256Of(composedKey);
        if (composedSha !== sha256) throw new Error(`composed sha256 ${composedSha} ≠ source ${sha256}`);
        console.log(`composed object verified: ${size} bytes, sha256 ${sha256.slice(0, 16)}… as the source`);
      }
      const put = await timed(() => store.put(singleKey, streamOf(data), size));
      const putSize = (await store.stat(singleKey))?.size;
      if (putSize !== size) throw new Error(`put object is ${putSize} bytes, not ${size}`);
      // Not timed; keeps the disk at one copy of each per round.
      await store.remove([composedKey, singleKey]);
      rounds.push({
        composeSeconds: compose.seconds,
        putSeconds: put.seconds,
        composeCpu: compose.cpu,
        putCpu: put.cpu,
      });
      console.log(
        `round ${round}/${ROUNDS}: compose ${compose.seconds.toFixed(2)} s (cpu: ${compose.cpu}), ` +
          `put ${put.seconds.toFixed(2)} s (cpu: ${put.cpu})`,
      );
    }

    const ratio = (r: Round) => rate(r.composeSeconds) / rate(r.putSeconds);
    const median = [...rounds].sort((a, b) => ratio(a) - ratio(b))[Math.floor(rounds.length / 2)]!;
    const cores = execFileSync('nproc').toString().trim();
    console.log('');
    console.log('round   compose MiB/s   put MiB/s   ratio');
    rounds.forEach((r, i) =>
      console.log(
        `${String(i + 1).padStart(5)}   ${rate(r.composeSeconds).toFixed(0).padStart(13)}   ${rate(r.putSeconds).toFixed(0).padStart(9)}   ${ratio(r).toFixed(2).padStart(5)}`,
      ),
    );
    console.log('');
    console.log(
      `compose (${parts.length} parts → 1)   ${rate(median.composeSeconds).toFixed(0).padStart(6)} MiB/s   (${median.composeSeconds.toFixed(2)} s for ${SIZE_MIB} MiB; median round)`,
    );
    console.log(
      `single-stream put         ${rate(median.putSeconds).toFixed(0).padStart(6)} MiB/s   (${median.putSeconds.toFixed(2)} s)`,
    );
    console.log(
      `ratio compose/put         ${ratio(median).toFixed(2).padStart(6)}         (goal ≥ 0.9; median of ${ROUNDS}; ${cores} cores)`,
    );
  } finally {
    await store.remove(await store.list(''));
    await store.client.removeBucket(bucket);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
