import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planDeletion } from './chunk-objects';

const chunk = (index: number, size: number, objectKey: string) => ({
  index,
  size,
  sha256: 'a'.repeat(64),
  objectKey,
});

test('when every recorded object is listed and nothing else, all keys are deleted and no stat is needed', () => {
  const plan = planDeletion([chunk(0, 10, 'p/0-a'), chunk(1, 5, 'p/1-b')], ['p/0-a', 'p/1-b']);
  assert.deepEqual(plan.keys.sort(), ['p/0-a', 'p/1-b']);
  assert.equal(plan.knownBytes, 15);
  assert.deepEqual(plan.toStat, []);
});

test('a listed object without a row (a leftover attempt) is deleted and its size asked for', () => {
  const plan = planDeletion([chunk(0, 10, 'p/0-a')], ['p/0-a', 'p/0-loser', 'p/3-orphan']);
  assert.deepEqual(plan.keys.sort(), ['p/0-a', 'p/0-loser', 'p/3-orphan']);
  assert.equal(plan.knownBytes, 10);
  assert.deepEqual(plan.toStat.sort(), ['p/0-loser', 'p/3-orphan']);
});

test('a recorded object the listing did not show is still deleted, its bytes not assumed but asked for', () => {
  const plan = planDeletion([chunk(0, 10, 'p/0-a'), chunk(1, 7, 'p/1-gone')], ['p/0-a']);
  assert.deepEqual(plan.keys.sort(), ['p/0-a', 'p/1-gone']);
  assert.equal(plan.knownBytes, 10);
  assert.deepEqual(plan.toStat, ['p/1-gone']);
});

test('an upload with no rows and no objects plans nothing', () => {
  assert.deepEqual(planDeletion([], []), { keys: [], knownBytes: 0, toStat: [] });
});
