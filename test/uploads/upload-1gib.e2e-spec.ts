/**
 * Issue 5's end-to-end acceptance: a 1 GiB file through the api in chunks, out of order, one
 * chunk sent twice, completed, composed by file-merge inside MinIO, downloaded back through the
 * presigned URL with the same sha256 — while the api's memory stays bounded (sampled from /proc).
 * Also bad input at the api that only the whole fleet shows: a missing chunk at complete.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, startChatFleet, type ChatFleet } from '../chat/harness';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.E2E_UPLOAD_BYTES ?? 1024 * MiB);

/** Deterministic pseudo-random bytes of chunk `index` (AES-CTR keystream): no 1 GiB buffer. */
function chunkBytes(index: number, chunkSize: number): Buffer {
  const length = Math.min(chunkSize, SIZE - index * chunkSize);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(index, 0);
  const cipher = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), iv);
  return cipher.update(Buffer.alloc(length));
}

/** Resident memory of a process, from /proc (KiB → bytes). */
function rss(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

describe('chunked uploads end to end (api, outbox-poller, file-merge, MinIO)', () => {
  let fleet: ChatFleet;
  let token: string;
  before(async () => {
    fleet = await startChatFleet({ routers: 0, fileMerge: 1 });
    token = await fleet.token('uploader');
  });
  after(() => fleet?.stop());

  const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
    call<Record<string, unknown>>(`${fleet.apiUrl}${path}`, token, init);

  async function putChunk(id: string, n: number, bytes: Buffer): Promise<number> {
    const response = await fetch(`${fleet.apiUrl}/v1/uploads/${id}/chunks/${n}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    await response.arrayBuffer();
    return response.status;
  }

  test('a 1 GiB file in chunks, out of order, one sent twice → COMPLETED, downloaded sha256 equal, api memory bounded', async () => {
    const created = await api('/v1/uploads', {
      method: 'POST',
      body: { filename: 'big.pdf', size: SIZE, contentType: 'application/pdf' },
    });
    // application/pdf: chunk 0 must carry a PDF's magic bytes (checked by the api).
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, chunkSize, chunkCount } = created.body as {
      id: string;
      chunkSize: number;
      chunkCount: number;
    };
    const chunk = (n: number) => {
      const bytes = chunkBytes(n, chunkSize);
      if (n === 0) Buffer.from('%PDF-1.7\n', 'latin1').copy(bytes, 0);
      return bytes;
    };
    const source = createHash('sha256');
    for (let n = 0; n < chunkCount; n++) source.update(chunk(n));
    const sourceSha = source.digest('hex');

    const apiPid = fleet.api.child.pid!;
    const baseline = rss(apiPid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(apiPid))), 50);
    // Out of order: odd indices descending, then even ascending; 4 in flight.
    const order = [
      ...Array.from({ length: chunkCount }, (_, n) => n)
        .filter((n) => n % 2 === 1)
        .reverse(),
      ...Array.from({ length: chunkCount }, (_, n) => n).filter((n) => n % 2 === 0),
    ];
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = next++; i < order.length; i = next++) {
          assert.equal(await putChunk(id, order[i]!, chunk(order[i]!)), 201, `chunk ${order[i]}`);
        }
      }),
    );
    const uploadSeconds = (performance.now() - started) / 1000;
    assert.equal(
      await putChunk(id, 3 % chunkCount, chunk(3 % chunkCount)),
      200,
      'the same chunk again is a no-op',
    );
    clearInterval(sampler);

    const completed = await api(`/v1/uploads/${id}/complete`, { method: 'POST' });
    assert.equal(completed.status, 202, JSON.stringify(completed.body));
    const mergeStarted = performance.now();
    let view: Record<string, unknown> = {};
    for (let i = 0; i < 600; i++) {
      view = (await api(`/v1/uploads/${id}`)).body;
      if (view.status === 'COMPLETED' || view.status === 'FAILED') break;
      await sleep(500);
    }
    assert.equal(view.status, 'COMPLETED', JSON.stringify(view));
    const mergeSeconds = (performance.now() - mergeStarted) / 1000;

    const download = await api(`/v1/uploads/${id}/download`);
    assert.equal(download.status, 200);
    const response = await fetch((download.body as { url: string }).url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-disposition') ?? '', /^attachment;/);
    const back = createHash('sha256');
    let bytes = 0;
    for await (const part of response.body!) {
      back.update(part);
      bytes += part.length;
    }
    assert.equal(bytes, SIZE);
    assert.equal(back.digest('hex'), sourceSha, 'downloaded bytes equal the source');
    assert.equal(view.sha256, sourceSha, 'file-merge recorded the same sha256');

    const growth = peak - baseline;
    console.log(
      `upload ${SIZE / MiB} MiB in ${chunkCount} chunks of ${chunkSize / MiB} MiB: ${uploadSeconds.toFixed(1)} s ` +
        `(${(SIZE / MiB / uploadSeconds).toFixed(0)} MiB/s); merged in ${mergeSeconds.toFixed(1)} s; ` +
        `api RSS ${(baseline / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB (+${(growth / MiB).toFixed(0)} MiB)`,
    );
    // Bounded: a few chunks' worth of stream buffers at most, never the file.
    assert.ok(growth < 4 * chunkSize + 64 * MiB, `api RSS grew by ${(growth / MiB).toFixed(0)} MiB`);
  });

  test('complete with a chunk missing → 409 listing it; nothing is merged', async () => {
    const size = 11 * MiB;
    const created = await api('/v1/uploads', {
      method: 'POST',
      body: { filename: 'notes.txt', size, contentType: 'text/plain' },
    });
    assert.equal(created.status, 201);
    const { id, chunkSize, chunkCount } = created.body as {
      id: string;
      chunkSize: number;
      chunkCount: number;
    };
    assert.ok(chunkCount >= 2);
    const text = Buffer.alloc(size, 'a');
    assert.equal(await putChunk(id, 0, text.subarray(0, chunkSize)), 201);
    const completed = await api(`/v1/uploads/${id}/complete`, { method: 'POST' });
    assert.equal(completed.status, 409);
    assert.deepEqual(
      (completed.body as { missing: number[] }).missing,
      Array.from({ length: chunkCount - 1 }, (_, i) => i + 1),
    );
    assert.equal((await api(`/v1/uploads/${id}`)).body.status, 'UPLOADING');
  });
});
