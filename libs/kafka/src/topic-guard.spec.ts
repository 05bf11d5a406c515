import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TopicGuard } from './topic-guard';

function cluster(topics: string[]) {
  const calls: number[] = [];
  return {
    topics,
    calls,
    admin: {
      connect: async () => undefined,
      listTopics: async () => {
        calls.push(1);
        return [...topics];
      },
    },
  };
}

describe('TopicGuard', () => {
  test('remembered topics need no question; a missing one is named', async () => {
    const c = cluster(['a', 'b']);
    const guard = new TopicGuard(c.admin, 5_000);
    guard.remember(['a']);
    assert.deepEqual(await guard.missing(['a']), new Set());
    assert.equal(c.calls.length, 0);
    assert.deepEqual(await guard.missing(['a', 'b', 'typo']), new Set(['typo']));
    assert.equal(c.calls.length, 1);
    // b is known now; typo is not asked about again before the recheck time
    assert.deepEqual(await guard.missing(['b', 'typo']), new Set(['typo']));
    assert.equal(c.calls.length, 1);
  });

  test('a topic provisioned later is picked up after the recheck time', async () => {
    const c = cluster(['a']);
    let now = 0;
    const guard = new TopicGuard(c.admin, 5_000, () => now);
    assert.deepEqual(await guard.missing(['late']), new Set(['late']));
    c.topics.push('late');
    now = 4_999;
    assert.deepEqual(await guard.missing(['late']), new Set(['late']));
    now = 5_000;
    assert.deepEqual(await guard.missing(['late']), new Set());
    assert.equal(c.calls.length, 2);
  });

  test('by default a missing topic is asked about at every call', async () => {
    const c = cluster([]);
    const guard = new TopicGuard(c.admin);
    assert.deepEqual(await guard.missing(['x']), new Set(['x']));
    c.topics.push('x');
    assert.deepEqual(await guard.missing(['x']), new Set());
    assert.equal(c.calls.length, 2);
  });

  test('a cluster that cannot be asked: the error reaches the caller (the batch waits)', async () => {
    const guard = new TopicGuard({
      connect: async () => undefined,
      listTopics: async () => {
        throw new Error('Connection error: ECONNREFUSED');
      },
    });
    await assert.rejects(guard.missing(['x']), /ECONNREFUSED/);
  });
});
