import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ContractError, defineTopic, dlqTopicOf, inNamespace, retryTopicOf } from './topic';

const schema = z.object({ id: z.string() });

describe('defineTopic', () => {
  test('when the name is versioned, the contract keeps it and applies defaults', () => {
    const topic = defineTopic({ name: 'chat.message.outgoing.1', schema, description: 'd' });
    assert.equal(topic.name, 'chat.message.outgoing.1');
    assert.equal(topic.partitions, 6);
    assert.equal(topic.keyRequired, true);
    assert.ok(Object.isFrozen(topic));
  });

  for (const name of [
    'chat.message.outgoing',
    'Chat.message.1',
    'chat..message.1',
    'chat.message.0',
    'chat_message.1',
  ]) {
    test(`when the name is "${name}", definition fails with a ContractError`, () => {
      assert.throws(() => defineTopic({ name, schema, description: 'd' }), ContractError);
    });
  }

  test('when partitions is not a positive integer, definition fails', () => {
    assert.throws(
      () => defineTopic({ name: 'a.b.1', schema, description: 'd', partitions: 0 }),
      /partitions/,
    );
  });

  test('retry and dead-letter companions are named after the topic', () => {
    assert.equal(retryTopicOf('a.b.1'), 'a.b.1.retry');
    assert.equal(dlqTopicOf('a.b.1'), 'a.b.1.dlq');
  });

  test('a namespaced contract keeps schema and settings under "<namespace>.<name>"; no namespace keeps the contract', () => {
    const topic = defineTopic({ name: 'chat.message.outgoing.1', schema, description: 'd', partitions: 3 });
    const spaced = inNamespace(topic, 'test-7f3a');
    assert.equal(spaced.name, 'test-7f3a.chat.message.outgoing.1');
    assert.equal(spaced.partitions, 3);
    assert.equal(spaced.schema, schema);
    assert.equal(inNamespace(topic, undefined), topic);
    assert.equal(inNamespace(topic, ''), topic);
    assert.throws(() => inNamespace(topic, 'Bad.Space'), ContractError);
  });
});
