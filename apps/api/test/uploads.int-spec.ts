/**
 * Chunked uploads through the bundled api (a child process) against the real PostgreSQL (fresh
 * schema), MinIO (fresh bucket) and a fresh Kafka topic namespace. file-merge is another app: the
 * tests that need a merged file mark the row COMPLETED and put the object at `finalKey` themselves.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inNamespace, mergeRequestSchema, uploadMergeRequested } from '@fleet/contracts';
import { type TestSchema } from '@fleet/db/testing';
import { createTestBucket } from '@fleet/object-store/testing';
import { chunkPrefix, finalKey, MIN_CHUNK_BYTES } from '@fleet/uploads';
import {
  call,
  createApiSchema,
  createKeys,
  startApi,
  tokenFor,
  type ApiUnderTest,
  type TestKeys,
} from './harness';

const MiB = 1024 * 1024;
const PDF_MAGIC = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
/** A PNG's signature, its 13-byte IHDR chunk (1×1 RGB; CRC not checked) and the start of an IDAT. */
const PNG_MAGIC = Buffer.from(
  '89504e470d0a1a0a' +
    '0000000d49484452' +
    '00000001000000010802000000' +
    '907753de' +
    '00001000' +
    '49444154',
  'hex',
);

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
  missing?: number[];
}
interface Created {
  id: string;
  status: string;
  filename: string;
  size: number;
  contentType: string;
  chunkSize: number;
  chunkCount: number;
  createdAt: string;
}
interface ChunkAnswer {
  index: number;
  size: number;
  sha256: string;
  status: string;
}
interface View extends Created {
  receivedChunks: number;
  missing?: number[];
  sha256: string | null;
  expectedSha256: string | null;
  failureReason: string | null;
  completedAt: string | null;
}

/** Random bytes that start like `magic` (the file's first chunk). */
function fileBytes(size: number, magic: Buffer = PDF_MAGIC): Buffer {
  const bytes = randomBytes(size);
  magic.copy(bytes, 0);
  return bytes;
}

/**
 * User ids of this run: the rate-limit counters live in the shared Redis, keyed by user, and other
 * suites run with a limit of a few requests per minute for their own fixed names.
 */
const run = randomUUID().slice(0, 8);
const user = (name: string) => `${name}-${run}`;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Resident set size and its peak (VmRSS, VmHWM) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** A small client of the uploads API for one api process. */
function uploadsClient(api: () => ApiUnderTest) {
  const create = (token: string | undefined, body: unknown) =>
    call<Created & ErrorBody>(api(), 'POST', '/v1/uploads', { ...(token ? { token } : {}), body });

  async function put(
    token: string | undefined,
    id: string,
    n: number | string,
    bytes: Buffer,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: ChunkAnswer & ErrorBody; headers: Headers }> {
    const response = await fetch(`${api().baseUrl}/v1/uploads/${id}/chunks/${n}`, {
      method: 'PUT',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': 'application/octet-stream',
        ...headers,
      },
      body: bytes,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  }

  /** Creates an upload and sends every chunk of `bytes`; returns it. */
  async function uploaded(token: string, bytes: Buffer, body: Record<string, unknown>): Promise<Created> {
    const created = await create(token, { size: bytes.length, ...body });
    assert.equal(created.status, 201, created.text);
    for (let n = 0; n < created.body.chunkCount; n++) {
      const chunk = bytes.subarray(n * created.body.chunkSize, (n + 1) * created.body.chunkSize);
      const answer = await put(token, created.body.id, n, chunk);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
    }
    return created.body;
  }

  return { create, put, uploaded };
}

describe('api chunked uploads', () => {
  let db: TestSchema;
  let bucket: Awaited<ReturnType<typeof createTestBucket>>;
  let keys: TestKeys;
  let api: ApiUnderTest;
  let alice: string;
  let bob: string;
  const namespace = `test-${randomUUID().slice(0, 8)}`;
  const client = uploadsClient(() => api);

  before(async () => {
    [db, bucket, keys] = await Promise.all([createApiSchema(), createTestBucket(), createKeys()]);
    api = await startApi(db.schema, keys, {
      ...bucket.env,
      KAFKA_TOPIC_NAMESPACE: namespace,
      // 5 MiB chunks (the minimum): a 12 MiB file is 3 chunks, 5 + 5 + 2 MiB.
      UPLOAD_CHUNK_BYTES: String(MIN_CHUNK_BYTES),
    });
    [alice, bob] = await Promise.all(['alice', 'bob'].map((name) => tokenFor(keys, user(name))));
  });
  after(async () => {
    await api?.stop();
    await bucket?.drop();
    await db?.drop();
  });

  /** Object keys under `uploads/<id>/`. */
  const objectsOf = (id: string) => bucket.store.list(`uploads/${id}/`);
  const chunkRows = (id: string): Promise<Array<{ idx: number; sha256: string; object_key: string }>> =>
    db.dataSource.query(
      `SELECT idx, sha256, object_key FROM upload_chunks WHERE upload_id = $1 ORDER BY idx`,
      [id],
    );
  const outboxRows = (id: string): Promise<Array<{ topic: string; payload: unknown; tx: string }>> =>
    db.dataSource.query(
      `SELECT topic, payload, xmin::text AS tx FROM outbox_events WHERE aggregate_key = $1`,
      [id],
    );
  const uploadCount = async (): Promise<number> =>
    (await db.dataSource.query(`SELECT count(*)::int AS n FROM uploads`))[0].n;

  test('initiate → 3 chunks out of order, one sent twice → complete: 202 MERGING, the merge requested once in the same transaction', async () => {
    const bytes = fileBytes(12 * MiB);
    const created = await client.create(alice, {
      filename: 'report.pdf',
      size: bytes.length,
      contentType: 'application/pdf',
      sha256: sha256(bytes).toUpperCase(),
    });
    assert.equal(created.status, 201, created.text);
    const { id, chunkSize, chunkCount } = created.body;
    assert.deepEqual(
      { ...created.body, id: undefined, createdAt: undefined },
      {
        id: undefined,
        status: 'UPLOADING',
        filename: 'report.pdf',
        size: 12 * MiB,
        contentType: 'application/pdf',
        chunkSize: 5 * MiB,
        chunkCount: 3,
        createdAt: undefined,
      },
    );
    const [row] = await db.dataSource.query(`SELECT owner_id, expected_sha256 FROM uploads WHERE id = $1`, [
      id,
    ]);
    assert.deepEqual(
      row,
      { owner_id: user('alice'), expected_sha256: sha256(bytes) },
      'sha256 stored lower-cased',
    );
    const chunk = (n: number) => bytes.subarray(n * chunkSize, (n + 1) * chunkSize);

    const third = await client.put(alice, id, 2, chunk(2));
    assert.equal(third.status, 201, JSON.stringify(third.body));
    assert.deepEqual(third.body, { index: 2, size: 2 * MiB, sha256: sha256(chunk(2)), status: 'stored' });
    assert.equal((await client.put(alice, id, 0, chunk(0))).status, 201);
    const again = await client.put(alice, id, 0, chunk(0), { 'x-chunk-sha256': sha256(chunk(0)) });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body, { index: 0, size: 5 * MiB, sha256: sha256(chunk(0)), status: 'duplicate' });
    assert.equal(
      (await bucket.store.list(`${chunkPrefix(id)}000000-`)).length,
      1,
      'one object for chunk 0 after sending it twice',
    );

    const partial = await call<View>(api, 'GET', `/v1/uploads/${id}`, { token: alice });
    assert.equal(partial.status, 200);
    assert.equal(partial.body.status, 'UPLOADING');
    assert.equal(partial.body.receivedChunks, 2);
    assert.deepEqual(partial.body.missing, [1]);

    assert.equal((await client.put(alice, id, 1, chunk(1))).status, 201);
    const rows = await chunkRows(id);
    assert.deepEqual(
      rows.map((r) => [r.idx, r.sha256]),
      [0, 1, 2].map((n) => [n, sha256(chunk(n))]),
    );
    assert.deepEqual((await objectsOf(id)).sort(), rows.map((r) => r.object_key).sort(), 'no stray objects');
    assert.equal(chunkCount, 3);

    const completed = await call<{ id: string; status: string }>(api, 'POST', `/v1/uploads/${id}/complete`, {
      token: alice,
    });
    assert.equal(completed.status, 202, completed.text);
    assert.deepEqual(completed.body, { id, status: 'MERGING' });
    const events = await outboxRows(id);
    assert.equal(events.length, 1, 'exactly one merge request');
    assert.equal(events[0]!.topic, inNamespace(uploadMergeRequested, namespace).name);
    assert.equal(mergeRequestSchema.parse(events[0]!.payload).uploadId, id);
    const [status] = await db.dataSource.query(`SELECT status, xmin::text AS tx FROM uploads WHERE id = $1`, [
      id,
    ]);
    assert.equal(status.status, 'MERGING');
    assert.equal(status.tx, events[0]!.tx, 'status change and outbox row committed by the same transaction');

    const twice = await call<{ id: string; status: string }>(api, 'POST', `/v1/uploads/${id}/complete`, {
      token: alice,
    });
    assert.equal(twice.status, 200);
    assert.deepEqual(twice.body, { id, status: 'MERGING' });
    assert.equal((await outboxRows(id)).length, 1, 'completing again requests nothing more');

    const late = await client.put(alice, id, 1, chunk(1));
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'UPLOAD_NOT_UPLOADING');
    assert.equal(late.body.error.details?.status, 'MERGING');
    assert.equal((await objectsOf(id)).length, 3, 'a refused chunk leaves no object');
    assert.ok(((await api.process.metric('upload_chunks_total', { outcome: 'duplicate' })) ?? 0) >= 1);
    assert.ok(((await api.process.metric('upload_merge_requests_total')) ?? 0) >= 1);
  });

  test('other bytes for a stored index → 409 CHUNK_CONFLICT; the stored chunk stays, the attempt leaves no object', async () => {
    // One chunk of 5 MiB (the first is also the last).
    const { id } = await client.uploaded(alice, fileBytes(5 * MiB), {
      filename: 'a.pdf',
      contentType: 'application/pdf',
    });
    const before = await chunkRows(id);
    const other = fileBytes(5 * MiB);
    const answer = await client.put(alice, id, 0, other);
    assert.equal(answer.status, 409, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, 'CHUNK_CONFLICT');
    assert.match(answer.body.error.message, /already stored with other content/);
    assert.deepEqual(await chunkRows(id), before);
    assert.deepEqual(await objectsOf(id), [before[0]!.object_key]);
  });

  test('complete with chunks missing → 409 UPLOAD_INCOMPLETE listing them; nothing requested', async () => {
    const bytes = fileBytes(12 * MiB);
    const created = await client.create(alice, {
      filename: 'b.pdf',
      size: bytes.length,
      contentType: 'application/pdf',
    });
    const { id } = created.body;
    assert.equal((await client.put(alice, id, 1, bytes.subarray(5 * MiB, 10 * MiB))).status, 201);
    const answer = await call<ErrorBody>(api, 'POST', `/v1/uploads/${id}/complete`, { token: alice });
    assert.equal(answer.status, 409);
    assert.equal(answer.body.error.code, 'UPLOAD_INCOMPLETE');
    assert.deepEqual(answer.body.error.details?.missing, [0, 2]);
    assert.deepEqual(answer.body.missing, [0, 2]);
    assert.match(answer.body.error.message, /0, 2/);
    assert.equal(
      (await call<View>(api, 'GET', `/v1/uploads/${id}`, { token: alice })).body.status,
      'UPLOADING',
    );
    assert.equal((await outboxRows(id)).length, 0);
  });

  describe('a chunk that cannot be one → 4xx with a reason; nothing recorded, no object left', () => {
    let id: string;
    const bytes = fileBytes(12 * MiB);
    before(async () => {
      const created = await client.create(alice, {
        filename: 'c.pdf',
        size: bytes.length,
        contentType: 'application/pdf',
      });
      assert.equal(created.status, 201);
      id = created.body.id;
    });

    const rawPut = (path: string, headers: Record<string, string>, body: Buffer[]) =>
      new Promise<{ status: number; body: ErrorBody }>((resolve, reject) => {
        const req = request(`${api.baseUrl}${path}`, { method: 'PUT', headers }, (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => parts.push(part));
          response.on('end', () =>
            resolve({ status: response.statusCode!, body: JSON.parse(Buffer.concat(parts).toString()) }),
          );
        });
        req.on('error', reject);
        for (const part of body) req.write(part);
        req.end();
      });

    /**
     * Only the request head: what is refused on its headers is answered before any body byte (a
     * client still writing a body it was refused for may see the connection close under it, EPIPE,
     * before it reads the answer: `fetch` sometimes did, so this case is asked headers-first).
     */
    const headOnlyPut = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: ErrorBody }>((resolve, reject) => {
        const req = request(`${api.baseUrl}${path}`, { method: 'PUT', headers }, (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => parts.push(part));
          response.on('end', () => {
            req.destroy();
            resolve({ status: response.statusCode!, body: JSON.parse(Buffer.concat(parts).toString()) });
          });
        });
        req.on('error', reject);
        req.flushHeaders();
      });

    const cases: Array<{
      name: string;
      status: number;
      code: string;
      message?: RegExp;
      run: () => Promise<{ status: number; body: ErrorBody }>;
    }> = [
      {
        name: 'a non-last chunk under 5 MiB',
        status: 400,
        code: 'CHUNK_SIZE_MISMATCH',
        message: /5 MiB/,
        run: () => client.put(alice, id, 0, bytes.subarray(0, 4 * MiB)),
      },
      {
        name: 'a last chunk longer than the rest of the file',
        status: 400,
        code: 'CHUNK_SIZE_MISMATCH',
        message: /last one and must be exactly 2097152 bytes/,
        run: () => client.put(alice, id, 2, bytes.subarray(0, 2 * MiB + 1)),
      },
      {
        name: 'a last chunk shorter than the rest of the file',
        status: 400,
        code: 'CHUNK_SIZE_MISMATCH',
        message: /last one and must be exactly 2097152 bytes/,
        run: () => client.put(alice, id, 2, bytes.subarray(0, 2 * MiB - 1)),
      },
      {
        name: 'an index past the last chunk',
        status: 400,
        code: 'CHUNK_INDEX_INVALID',
        message: /out of range/,
        run: () => client.put(alice, id, 3, bytes.subarray(0, 2 * MiB)),
      },
      {
        name: 'a negative index',
        status: 400,
        code: 'CHUNK_INDEX_INVALID',
        run: () => client.put(alice, id, -1, bytes.subarray(0, 10)),
      },
      {
        name: 'an index that is not an integer',
        status: 400,
        code: 'CHUNK_INDEX_INVALID',
        run: () => client.put(alice, id, '1.5', bytes.subarray(0, 10)),
      },
      {
        name: 'an X-Chunk-SHA256 the bytes do not match',
        status: 400,
        code: 'CHUNK_CHECKSUM_MISMATCH',
        run: () => client.put(alice, id, 2, bytes.subarray(10 * MiB), { 'x-chunk-sha256': 'ab'.repeat(32) }),
      },
      {
        name: 'a malformed X-Chunk-SHA256',
        status: 400,
        code: 'VALIDATION_FAILED',
        run: () => client.put(alice, id, 2, bytes.subarray(10 * MiB), { 'x-chunk-sha256': 'abc' }),
      },
      {
        name: 'a body without Content-Length (chunked transfer encoding)',
        status: 411,
        code: 'LENGTH_REQUIRED',
        run: () =>
          rawPut(
            `/v1/uploads/${id}/chunks/2`,
            {
              authorization: `Bearer ${alice}`,
              'content-type': 'application/octet-stream',
              'transfer-encoding': 'chunked',
            },
            [bytes.subarray(0, 1000), bytes.subarray(1000, 2000)],
          ),
      },
      {
        name: 'a Content-Length larger than any chunk',
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        run: () =>
          headOnlyPut(`/v1/uploads/${id}/chunks/0`, {
            authorization: `Bearer ${alice}`,
            'content-type': 'application/octet-stream',
            'content-length': String(6 * MiB),
          }),
      },
      {
        name: 'a body that is not application/octet-stream',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        run: () => client.put(alice, id, 2, Buffer.from('{"a":1}'), { 'content-type': 'application/json' }),
      },
    ];
    for (const c of cases) {
      test(`${c.name} → ${c.status} ${c.code}`, async () => {
        const answer = await c.run();
        assert.equal(answer.status, c.status, JSON.stringify(answer.body));
        assert.equal(answer.body.error.code, c.code);
        if (c.message) assert.match(answer.body.error.message, c.message);
        assert.deepEqual(await chunkRows(id), [], 'nothing recorded');
        assert.deepEqual(await objectsOf(id), [], 'no object left');
      });
    }
  });

  describe('a file that cannot be an upload → 4xx with a reason; nothing stored', () => {
    const good = { filename: 'ok.pdf', size: 1000, contentType: 'application/pdf' };
    const cases: Array<{
      name: string;
      body: Record<string, unknown>;
      status: number;
      code: string;
      message?: RegExp;
    }> = [
      {
        name: 'a size over UPLOAD_MAX_BYTES (5 GiB)',
        body: { ...good, size: 5 * 1024 * MiB + 1 },
        status: 413,
        code: 'UPLOAD_TOO_LARGE',
      },
      {
        name: 'a content type not allowed',
        body: { ...good, contentType: 'application/octet-stream' },
        status: 415,
        code: 'CONTENT_TYPE_NOT_ALLOWED',
        message: /application\/pdf/,
      },
      {
        name: 'a newline in the filename',
        body: { ...good, filename: 'a\nb.pdf' },
        status: 400,
        code: 'VALIDATION_FAILED',
        message: /control character U\+000A/,
      },
      {
        name: 'an escape character in the filename',
        body: { ...good, filename: 'x\u001b[31m.pdf' },
        status: 400,
        code: 'VALIDATION_FAILED',
        message: /U\+001B/,
      },
      {
        name: 'a right-to-left override in the filename',
        body: { ...good, filename: 'invoice\u202efdp.exe' },
        status: 400,
        code: 'VALIDATION_FAILED',
        message: /U\+202E/,
      },
      {
        name: 'a NUL in the filename',
        body: { ...good, filename: 'a\u0000.pdf' },
        status: 400,
        code: 'INVALID_STRING',
        message: /NUL/,
      },
      { name: 'an empty filename', body: { ...good, filename: '' }, status: 400, code: 'VALIDATION_FAILED' },
      {
        name: 'a filename of 256 characters',
        body: { ...good, filename: 'é'.repeat(256) },
        status: 400,
        code: 'VALIDATION_FAILED',
        message: /256 characters; at most 255/,
      },
      {
        name: 'a sha256 that is not 64 hex',
        body: { ...good, sha256: 'xyz' },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      { name: 'a size of 0', body: { ...good, size: 0 }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'an unknown field', body: { ...good, path: '/tmp/x' }, status: 400, code: 'VALIDATION_FAILED' },
    ];
    for (const c of cases) {
      test(`${c.name} → ${c.status} ${c.code}`, async () => {
        const before = await uploadCount();
        const answer = await client.create(alice, c.body);
        assert.equal(answer.status, c.status, answer.text);
        assert.equal(answer.body.error.code, c.code);
        if (c.message) assert.match(answer.body.error.message, c.message);
        assert.equal(await uploadCount(), before, 'nothing stored');
      });
    }

    test('a filename of 255 characters (not UTF-16 units) is accepted', async () => {
      assert.equal((await client.create(alice, { ...good, filename: '😀'.repeat(255) })).status, 201);
    });
  });

  test('a filename like ../../etc/passwd is stored verbatim as metadata; every object key stays under uploads/<id>/', async () => {
    const text = Buffer.from('root:x:0:0:root:/root:/bin/bash\n'.repeat(100));
    const created = await client.uploaded(alice, text, {
      filename: '../../etc/passwd',
      contentType: 'text/plain',
    });
    const view = await call<View>(api, 'GET', `/v1/uploads/${created.id}`, { token: alice });
    assert.equal(view.body.filename, '../../etc/passwd');
    const [row] = await db.dataSource.query(`SELECT filename FROM uploads WHERE id = $1`, [created.id]);
    assert.equal(row.filename, '../../etc/passwd');
    const all = await bucket.store.list('');
    const mine = all.filter((key) => key.includes(created.id));
    assert.equal(mine.length, 1);
    for (const key of all) {
      assert.match(key, /^uploads\/[0-9a-f-]{36}\/chunks\/\d{6}-[0-9a-f-]{36}$/, `server-made key: ${key}`);
      assert.ok(!key.includes('..') && !key.includes('passwd'), key);
    }
  });

  describe('content check of chunk 0 (magic bytes)', () => {
    test('declared image/png but the bytes are a PDF → 415 CONTENT_MISMATCH naming both; nothing recorded, no object', async () => {
      const bytes = fileBytes(3000, PDF_MAGIC);
      const created = await client.create(alice, {
        filename: 'cat.png',
        size: bytes.length,
        contentType: 'image/png',
      });
      const answer = await client.put(alice, created.body.id, 0, bytes);
      assert.equal(answer.status, 415, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, 'CONTENT_MISMATCH');
      assert.equal(answer.body.error.message, 'declared image/png but the bytes are application/pdf');
      assert.deepEqual(await chunkRows(created.body.id), []);
      assert.deepEqual(await objectsOf(created.body.id), []);
      assert.equal(
        (await call<View>(api, 'GET', `/v1/uploads/${created.body.id}`, { token: alice })).body
          .receivedChunks,
        0,
      );
    });

    test('declared text/plain but the bytes hold NUL → 415; UTF-8 text and a real PNG are accepted', async () => {
      const binary = Buffer.from('hello\u0000world', 'latin1');
      const created = await client.create(alice, {
        filename: 'a.txt',
        size: binary.length,
        contentType: 'text/plain',
      });
      const answer = await client.put(alice, created.body.id, 0, binary);
      assert.equal(answer.status, 415);
      assert.match(
        answer.body.error.message,
        /declared text\/plain but the bytes are not UTF-8 text: NUL byte at offset 5/,
      );
      await client.uploaded(alice, Buffer.from('# Olá, 世界 😀\n'.repeat(500)), {
        filename: 'notes.md',
        contentType: 'text/markdown; charset=utf-8',
      });
      await client.uploaded(alice, fileBytes(6 * MiB, PNG_MAGIC), {
        filename: 'cat.png',
        contentType: 'image/png',
      });
    });
  });

  test('client aborts mid-chunk → nothing recorded, no object, no error logged; the api keeps serving', async () => {
    const created = await client.create(alice, {
      filename: 'd.pdf',
      size: 12 * MiB,
      contentType: 'application/pdf',
    });
    const { id } = created.body;
    const req = request(`${api.baseUrl}/v1/uploads/${id}/chunks/0`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${alice}`,
        'content-type': 'application/octet-stream',
        'content-length': String(5 * MiB),
      },
    });
    req.on('error', () => undefined);
    req.write(fileBytes(1 * MiB));
    await sleep(500);
    req.destroy();
    for (let i = 0; (await api.process.metric('upload_chunks_total', { outcome: 'aborted' })) !== 1; i++) {
      assert.ok(i < 100, 'the abort was noticed');
      await sleep(50);
    }
    assert.deepEqual(await chunkRows(id), []);
    assert.deepEqual(await objectsOf(id), []);
    const errors = api.process.logs().filter((line) => Number(line.level) >= 50);
    assert.deepEqual(errors, [], 'no error logged for the client going away');
    assert.equal((await call(api, 'GET', `/v1/uploads/${id}`, { token: alice })).status, 200);
    assert.equal(
      (await client.put(alice, id, 0, fileBytes(5 * MiB))).status,
      201,
      'the chunk can be sent again',
    );
  });

  test('without a valid token every route answers 401', async () => {
    const created = await client.create(alice, {
      filename: 'e.pdf',
      size: 1000,
      contentType: 'application/pdf',
    });
    const id = created.body.id;
    const stranger = await tokenFor(keys, user('alice'), { key: keys.stranger });
    for (const token of [undefined, stranger]) {
      const auth = token ? { token } : {};
      assert.equal(
        (await client.create(token, { filename: 'x.pdf', size: 10, contentType: 'application/pdf' })).status,
        401,
      );
      assert.equal((await client.put(token, id, 0, fileBytes(1000))).status, 401);
      for (const [method, path] of [
        ['GET', `/v1/uploads/${id}`],
        ['POST', `/v1/uploads/${id}/complete`],
        ['GET', `/v1/uploads/${id}/download`],
      ] as const) {
        const answer = await call<ErrorBody>(api, method, path, auth);
        assert.equal(answer.status, 401, `${method} ${path}`);
        assert.equal(answer.body.error.code, 'UNAUTHENTICATED');
      }
    }
    assert.deepEqual(await chunkRows(id), []);
  });

  test("another user's upload, an unknown one → 404 on every route; a malformed id → 400", async () => {
    const created = await client.create(alice, {
      filename: 'f.pdf',
      size: 1000,
      contentType: 'application/pdf',
    });
    const id = created.body.id;
    for (const target of [id, randomUUID()]) {
      assert.equal((await client.put(bob, target, 0, fileBytes(1000))).status, 404);
      for (const [method, path] of [
        ['GET', `/v1/uploads/${target}`],
        ['POST', `/v1/uploads/${target}/complete`],
        ['GET', `/v1/uploads/${target}/download`],
      ] as const) {
        const answer = await call<ErrorBody>(api, method, path, { token: bob });
        assert.equal(answer.status, 404, `${method} ${path}`);
        assert.equal(answer.body.error.code, 'NOT_FOUND');
      }
    }
    assert.deepEqual(await chunkRows(id), []);
    assert.deepEqual(await objectsOf(id), []);
    const malformed = await call<ErrorBody>(api, 'GET', '/v1/uploads/not-a-uuid', { token: alice });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'INVALID_ID');
  });

  test('download: 409 with the status until COMPLETED, then a presigned URL that serves the file as an attachment', async () => {
    const bytes = fileBytes(5 * MiB + 123);
    const created = await client.uploaded(alice, bytes, {
      filename: 'Relatório final.pdf',
      contentType: 'application/pdf',
    });
    const early = await call<ErrorBody>(api, 'GET', `/v1/uploads/${created.id}/download`, { token: alice });
    assert.equal(early.status, 409);
    assert.equal(early.body.error.code, 'UPLOAD_NOT_COMPLETED');
    assert.equal(early.body.error.details?.status, 'UPLOADING');

    // What file-merge does once it composed the chunks.
    await bucket.store.put(finalKey(created.id), bytes, bytes.length);
    await db.dataSource.query(
      `UPDATE uploads SET status = 'COMPLETED', final_key = $2, sha256 = $3, completed_at = now() WHERE id = $1`,
      [created.id, finalKey(created.id), sha256(bytes)],
    );
    const view = await call<View>(api, 'GET', `/v1/uploads/${created.id}`, { token: alice });
    assert.equal(view.body.status, 'COMPLETED');
    assert.equal(view.body.sha256, sha256(bytes));
    assert.equal(view.body.receivedChunks, 2);
    assert.equal(view.body.missing, undefined);
    assert.ok(view.body.completedAt);

    const answer = await call<{ url: string; expiresAt: string; expiresInSeconds: number }>(
      api,
      'GET',
      `/v1/uploads/${created.id}/download`,
      { token: alice },
    );
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.expiresInSeconds, 300);
    const left = Date.parse(answer.body.expiresAt) - Date.now();
    assert.ok(left > 290_000 && left <= 300_000, `expires in ${left} ms`);
    const download = await fetch(answer.body.url);
    assert.equal(download.status, 200);
    assert.equal(
      download.headers.get('content-disposition'),
      `attachment; filename="Relat_rio final.pdf"; filename*=UTF-8''Relat%C3%B3rio%20final.pdf`,
    );
    assert.equal(download.headers.get('content-type'), 'application/pdf');
    assert.equal(sha256(Buffer.from(await download.arrayBuffer())), sha256(bytes));
  });

  test('OpenAPI documents the upload routes', async () => {
    const doc = await call<{ paths: Record<string, Record<string, unknown>> }>(api, 'GET', '/docs/json');
    for (const [path, method] of [
      ['/v1/uploads', 'post'],
      ['/v1/uploads/{id}/chunks/{n}', 'put'],
      ['/v1/uploads/{id}/complete', 'post'],
      ['/v1/uploads/{id}', 'get'],
      ['/v1/uploads/{id}/download', 'get'],
    ] as const) {
      assert.ok(doc.body.paths[path]?.[method], `${method} ${path}`);
    }
  });
});

/** An api of its own (fresh schema, bucket, namespace) with `env`, and a token for it. */
function tunedApi(env: Record<string, string>) {
  const state = {} as {
    db: TestSchema;
    bucket: Awaited<ReturnType<typeof createTestBucket>>;
    api: ApiUnderTest;
    token: string;
  };
  before(async () => {
    let keys: TestKeys;
    [state.db, state.bucket, keys] = await Promise.all([createApiSchema(), createTestBucket(), createKeys()]);
    state.api = await startApi(state.db.schema, keys, {
      ...state.bucket.env,
      KAFKA_TOPIC_NAMESPACE: `test-${randomUUID().slice(0, 8)}`,
      UPLOAD_CHUNK_BYTES: String(64 * MiB),
      ...env,
    });
    state.token = await tokenFor(keys, user('carol'));
  });
  after(async () => {
    await state.api?.stop();
    await state.bucket?.drop();
    await state.db?.drop();
  });
  return state;
}

/**
 * Sends `rounds` of `parallel` 64 MiB chunks of one upload while sampling the api's RSS (VmRSS
 * every 10 ms; VmHWM before and after); returns the peak's growth over the baseline taken after a
 * warm-up chunk and over the process' RSS before it.
 */
async function measureChunkStreaming(
  state: ReturnType<typeof tunedApi>,
  rounds: number,
  parallel: number,
): Promise<{ growth: number; hwmGrowth: number; sinceStart: number; line: string }> {
  const client = uploadsClient(() => state.api);
  const pid = state.api.process.child.pid!;
  const chunk = fileBytes(64 * MiB);
  const start = memoryOf(pid);
  // Warm-up, one chunk of the same size: code paths loaded, connection pools and buffers made,
  // the heap's one-time growth done before the baseline.
  await client.uploaded(state.token, chunk, { filename: 'warm.pdf', contentType: 'application/pdf' });
  const count = rounds * parallel;
  const created = await client.create(state.token, {
    filename: 'big.pdf',
    size: count * chunk.length,
    contentType: 'application/pdf',
  });
  assert.equal(created.body.chunkSize, 64 * MiB);
  assert.equal(created.body.chunkCount, count);
  const baseline = memoryOf(pid);
  let peak = baseline.rss;
  const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(pid).rss)), 10);
  const started = performance.now();
  try {
    for (let round = 0; round < rounds; round++) {
      const answers = await Promise.all(
        Array.from({ length: parallel }, (_, k) =>
          client.put(state.token, created.body.id, round * parallel + k, chunk),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        answers.map(() => 201),
      );
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const end = memoryOf(pid);
  peak = Math.max(peak, end.rss);
  const growth = peak - baseline.rss;
  const hwmGrowth = end.hwm - baseline.hwm;
  const mib = (bytes: number) => (bytes / MiB).toFixed(1);
  return {
    growth,
    hwmGrowth,
    sinceStart: peak - start.rss,
    line:
      `${count} × 64 MiB chunks, ${parallel} at a time, ${((count * 64) / seconds).toFixed(0)} MiB/s: ` +
      `RSS ${mib(start.rss)} MiB at start, ${mib(baseline.rss)} MiB after a 64 MiB warm-up chunk, ` +
      `peak ${mib(peak)} MiB (+${mib(growth)} MiB over the warm baseline, +${mib(peak - start.rss)} MiB over the start); ` +
      `VmHWM ${mib(baseline.hwm)} → ${mib(end.hwm)} MiB (+${mib(hwmGrowth)} MiB)`,
  };
}

describe("api with 64 MiB chunks and 1 s download URLs (Node's default GC)", () => {
  const state = tunedApi({ UPLOAD_DOWNLOAD_URL_TTL_SECONDS: '1' });

  test('two 64 MiB chunks in flight, twice: the api grows by less than holding them would take, and not with the volume', async () => {
    const { growth, sinceStart, line } = await measureChunkStreaming(state, 2, 2);
    console.log(`api memory, default GC: ${line}`);
    // Holding the two chunks in flight would take 128 MiB by itself, on top of the garbage (a
    // variant that buffered each chunk grew by 253 MiB here). What streaming leaves is V8's
    // garbage of socket reads, freed at the next scavenge: a plateau of ~64 MiB reached during
    // the warm-up, whatever the chunk size or the volume streamed after it.
    assert.ok(sinceStart < 2 * 64 * MiB, `RSS grew by ${(sinceStart / MiB).toFixed(1)} MiB since the start`);
    assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB after the warm-up`);
  });

  test('a download URL past its 1 s lifetime → 403 from the object store', async () => {
    const client = uploadsClient(() => state.api);
    const bytes = fileBytes(1000);
    const created = await client.uploaded(state.token, bytes, {
      filename: 'short.pdf',
      contentType: 'application/pdf',
    });
    await state.bucket.store.put(finalKey(created.id), bytes, bytes.length);
    await state.db.dataSource.query(
      `UPDATE uploads SET status = 'COMPLETED', final_key = $2, sha256 = $3, completed_at = now() WHERE id = $1`,
      [created.id, finalKey(created.id), sha256(bytes)],
    );
    const answer = await call<{ url: string; expiresInSeconds: number }>(
      state.api,
      'GET',
      `/v1/uploads/${created.id}/download`,
      { token: state.token },
    );
    assert.equal(answer.body.expiresInSeconds, 1);
    assert.equal((await fetch(answer.body.url)).status, 200, 'valid at first');
    await sleep(2_000);
    const expired = await fetch(answer.body.url);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /expired/i);
  });
});

describe('api with 64 MiB chunks and a 1 MiB young generation (NODE_OPTIONS=--max-semi-space-size=1)', () => {
  const state = tunedApi({
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=1`.trim(),
  });

  test('64 MiB chunks one after another: the api grows by well under one chunk', async () => {
    const { growth, hwmGrowth, line } = await measureChunkStreaming(state, 3, 1);
    console.log(`api memory, --max-semi-space-size=1: ${line}`);
    // Over the warm baseline: the process' one-time growth (first use of the code paths, pools)
    // is not what a chunk costs.
    assert.ok(growth < 32 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(hwmGrowth < 32 * MiB, `VmHWM grew by ${(hwmGrowth / MiB).toFixed(1)} MiB`);
  });

  test('when the bucket is gone: readiness fails on minio and a chunk answers 503 STORAGE_UNAVAILABLE, nothing recorded', async () => {
    const client = uploadsClient(() => state.api);
    const bytes = fileBytes(6 * MiB);
    const created = await client.create(state.token, {
      filename: 'x.pdf',
      size: bytes.length,
      contentType: 'application/pdf',
    });
    const { store } = state.bucket;
    await store.remove(await store.list(''));
    await store.client.removeBucket(store.bucket);
    try {
      const ready = await fetch(`http://127.0.0.1:${state.api.process.port}/health/ready`);
      assert.equal(ready.status, 503);
      assert.notEqual(((await ready.json()) as { checks: Record<string, string> }).checks.minio, 'ok');
      const answer = await client.put(state.token, created.body.id, 0, bytes);
      assert.equal(answer.status, 503, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, 'STORAGE_UNAVAILABLE');
      assert.equal(answer.headers.get('retry-after'), '1');
      const rows = await state.db.dataSource.query(`SELECT 1 FROM upload_chunks WHERE upload_id = $1`, [
        created.body.id,
      ]);
      assert.equal(rows.length, 0);
      assert.equal(
        (await call(state.api, 'GET', `/v1/uploads/${created.body.id}`, { token: state.token })).status,
        200,
      );
    } finally {
      await store.ensureBucket();
    }
    const again = await client.put(state.token, created.body.id, 0, bytes);
    assert.equal(again.status, 201, 'the same chunk again once the store is back');
  });
});
