import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Upload } from '@fleet/uploads';
import { baseMediaType, createUploadSchema, normalizeContentType, toUploadView } from './uploads.schemas';

const valid = { filename: 'report.pdf', size: 10, contentType: 'application/pdf' };
const issues = (body: unknown) => {
  const parsed = createUploadSchema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('createUploadSchema', () => {
  it('keeps a path-like filename verbatim (metadata only) and lower-cases the sha256', () => {
    const parsed = createUploadSchema.parse({
      ...valid,
      filename: '../../etc/passwd',
      sha256: 'AB'.repeat(32),
    });
    assert.equal(parsed.filename, '../../etc/passwd');
    assert.equal(parsed.sha256, 'ab'.repeat(32));
  });

  it('refuses control characters and bidirectional overrides in the filename, naming the character', () => {
    assert.match(
      issues({ ...valid, filename: 'a\tb' })[0]!,
      /filename: contains the control character U\+0009 at position 1/,
    );
    assert.match(issues({ ...valid, filename: 'a\u0085' })[0]!, /U\+0085/);
    assert.match(issues({ ...valid, filename: 'x\u2066y' })[0]!, /U\+2066/);
    assert.deepEqual(issues({ ...valid, filename: 'Relatório 😀 (1).pdf' }), []);
  });

  it('counts the filename in characters: 255 emoji pass, 256 do not', () => {
    assert.deepEqual(issues({ ...valid, filename: '😀'.repeat(255) }), []);
    assert.match(issues({ ...valid, filename: '😀'.repeat(256) })[0]!, /256 characters; at most 255/);
  });

  it('refuses non-integer or non-positive sizes, malformed types and checksums, unknown fields', () => {
    assert.equal(issues({ ...valid, size: 1.5 }).length, 1);
    assert.equal(issues({ ...valid, size: -1 }).length, 1);
    assert.equal(issues({ ...valid, contentType: 'pdf' }).length, 1);
    assert.equal(issues({ ...valid, sha256: 'g'.repeat(64) }).length, 1);
    assert.equal(issues({ ...valid, key: 'uploads/x' }).length, 1);
  });
});

describe('content types', () => {
  it('the base type is compared, lower-cased; parameters are kept when stored', () => {
    assert.equal(baseMediaType('Text/Plain; charset=UTF-8'), 'text/plain');
    assert.equal(normalizeContentType('Text/Plain ;charset=UTF-8'), 'text/plain; charset=UTF-8');
  });
});

describe('toUploadView', () => {
  const upload: Upload = {
    id: '00000000-0000-4000-8000-000000000000',
    ownerId: 'u',
    filename: 'f',
    contentType: 'text/plain',
    size: 12,
    expectedSha256: null,
    chunkSize: 5,
    chunkCount: 3,
    status: 'UPLOADING',
    finalKey: null,
    sha256: null,
    failureReason: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    lastActivityAt: new Date(0),
    completedAt: null,
  };

  it('while UPLOADING lists the missing indices', () => {
    const view = toUploadView(upload, [2, 0]);
    assert.equal(view.receivedChunks, 2);
    assert.deepEqual(view.missing, [1]);
  });

  it('once COMPLETED counts every chunk (their rows are gone) and lists nothing missing', () => {
    const view = toUploadView({ ...upload, status: 'COMPLETED', completedAt: new Date(1) }, []);
    assert.equal(view.receivedChunks, 3);
    assert.equal(view.missing, undefined);
    assert.equal(view.completedAt, '1970-01-01T00:00:00.001Z');
  });
});
