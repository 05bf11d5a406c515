import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MIN_CHUNK_BYTES } from '@fleet/uploads';
import { chunkProblem } from './chunk-check';

const MiB = 1024 * 1024;
const upload = { size: 10 * MiB + 100, chunkSize: 5 * MiB, chunkCount: 3 };
const complete = [
  { index: 0, size: 5 * MiB },
  { index: 1, size: 5 * MiB },
  { index: 2, size: 100 },
];

describe('chunkProblem', () => {
  it('chunks 0..chunkCount-1 of their planned sizes are fine, a single small chunk too', () => {
    assert.equal(chunkProblem(upload, complete), undefined);
    assert.equal(
      chunkProblem({ size: 10, chunkSize: 8 * MiB, chunkCount: 1 }, [{ index: 0, size: 10 }]),
      undefined,
    );
    assert.equal(
      chunkProblem({ size: 10 * MiB, chunkSize: 5 * MiB, chunkCount: 2 }, [
        { index: 0, size: 5 * MiB },
        { index: 1, size: 5 * MiB },
      ]),
      undefined,
      'a last chunk of exactly chunkSize',
    );
  });

  it('a missing index is named', () => {
    assert.equal(chunkProblem(upload, [complete[0]!, complete[2]!]), 'chunk(s) 1 missing');
    assert.equal(chunkProblem(upload, []), 'chunk(s) 0, 1, 2 missing');
  });

  it('an index beyond chunkCount is named', () => {
    assert.equal(
      chunkProblem(upload, [...complete, { index: 3, size: 1 }]),
      'chunk(s) 3 beyond chunkCount 3',
    );
  });

  it('a chunk of the wrong size is named with its size and the expected one', () => {
    assert.equal(
      chunkProblem(upload, [complete[0]!, { index: 1, size: 5 * MiB - 1 }, complete[2]!]),
      `chunk(s) 1 of the wrong size (chunk 1: ${5 * MiB - 1} bytes, expected ${5 * MiB})`,
    );
    assert.match(
      chunkProblem(upload, [...complete.slice(0, 2), { index: 2, size: 101 }])!,
      /chunk 2: 101 bytes, expected 100/,
    );
  });

  it('a plan that does not add up, or parts under S3’s 5 MiB minimum, cannot be composed', () => {
    assert.match(chunkProblem({ size: 100, chunkSize: 50, chunkCount: 3 }, [])!, /does not add up/);
    assert.match(chunkProblem({ size: 10 * MiB, chunkSize: 5 * MiB, chunkCount: 3 }, [])!, /does not add up/);
    assert.match(
      chunkProblem({ size: MIN_CHUNK_BYTES, chunkSize: MIN_CHUNK_BYTES / 2, chunkCount: 2 }, [])!,
      /cannot be composed/,
    );
  });

  it('long lists are cut after ten indices, with the count', () => {
    const many = { size: 40 * 5 * MiB, chunkSize: 5 * MiB, chunkCount: 40 };
    assert.equal(chunkProblem(many, []), 'chunk(s) 0, 1, 2, 3, 4, 5, 6, 7, 8, 9… (40) missing');
  });
});
