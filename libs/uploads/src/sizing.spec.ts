import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectedChunkBytes, MAX_CHUNKS, MIN_CHUNK_BYTES, planChunks } from './sizing';

const MiB = 1024 * 1024;

describe('planChunks', () => {
  test('the preferred size, never under 5 MiB; the last chunk takes the rest', () => {
    assert.deepEqual(planChunks(20 * MiB + 1), { chunkSize: 8 * MiB, chunkCount: 3 });
    assert.deepEqual(planChunks(1, MiB), { chunkSize: MIN_CHUNK_BYTES, chunkCount: 1 });
    const plan = { ...planChunks(20 * MiB + 1), size: 20 * MiB + 1 };
    assert.deepEqual(
      [0, 1, 2].map((i) => expectedChunkBytes(plan, i)),
      [8 * MiB, 8 * MiB, 4 * MiB + 1],
    );
  });

  test('a file that would need more than 10,000 parts gets bigger chunks, in whole MiB', () => {
    const size = 200 * 1024 * MiB;
    const { chunkSize, chunkCount } = planChunks(size);
    assert.ok(chunkCount <= MAX_CHUNKS, `${chunkCount}`);
    assert.equal(chunkSize % MiB, 0);
    assert.ok(chunkSize * chunkCount >= size);
  });

  test('a size that is not a positive integer is refused', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) assert.throws(() => planChunks(size), RangeError);
  });
});
