import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { FleetProducer } from './producer';

/** A stand-in for kafkajs' client that records the producers made and what each was asked. */
function client(failures: number[]) {
  const producers: Array<{ sends: number; connected: boolean; disconnected: boolean }> = [];
  const kafka = {
    producer: () => {
      const me = { sends: 0, connected: false, disconnected: false };
      const index = producers.push(me) - 1;
      return {
        connect: async () => {
          me.connected = true;
        },
        disconnect: async () => {
          me.disconnected = true;
        },
        sendBatch: async () => {
          me.sends++;
          if (failures.includes(index) && me.sends === 1) {
            throw Object.assign(new Error('The broker received an out of order sequence number'), {
              type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
            });
          }
          return [];
        },
      };
    },
  };
  return { kafka: kafka as unknown as Kafka, producers };
}

const batch = [{ topic: 't', records: [{ key: 'k', value: 'v', headers: {} }] }];

describe('FleetProducer: the idempotent session after a failed send', () => {
  test('a failed send makes the next send start a new session (a new producer, the old one closed)', async () => {
    const { kafka, producers } = client([0]);
    const registry = new Registry();
    const producer = new FleetProducer(kafka, { registry });
    await producer.connect();
    await assert.rejects(producer.sendRawBatch(batch), /out of order sequence/);
    await producer.sendRawBatch(batch);
    await producer.sendRawBatch(batch);
    assert.equal(producers.length, 2);
    assert.deepEqual(
      producers.map((p) => [p.sends, p.connected, p.disconnected]),
      [
        [1, true, true],
        [2, true, false],
      ],
    );
    const renewed = await registry.getSingleMetric('kafka_producer_sessions_renewed_total')!.get();
    assert.equal(renewed.values[0]!.value, 1);
  });

  test('concurrent sends after a failure share one renewal', async () => {
    const { kafka, producers } = client([0]);
    const producer = new FleetProducer(kafka, { registry: new Registry() });
    await producer.connect();
    await assert.rejects(producer.sendRawBatch(batch));
    await Promise.all([
      producer.sendRawBatch(batch),
      producer.sendRawBatch(batch),
      producer.sendRawBatch(batch),
    ]);
    assert.equal(producers.length, 2);
    assert.equal(producers[1]!.sends, 3);
  });

  test('a send the breaker refused sent nothing: the session is kept', async () => {
    const { kafka, producers } = client([]);
    let open = true;
    const guard = {
      run: async <T>(call: () => Promise<T>) => {
        if (open) throw Object.assign(new Error('breaker open'), { code: 'BREAKER_OPEN' });
        return call();
      },
    };
    const producer = new FleetProducer(kafka, { registry: new Registry(), guard });
    await producer.connect();
    await assert.rejects(producer.sendRawBatch(batch), /breaker open/);
    open = false;
    await producer.sendRawBatch(batch);
    assert.equal(producers.length, 1);
  });
});
