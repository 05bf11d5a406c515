import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Semaphore } from './semaphore';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Semaphore', () => {
  it('grants up to its limit at once and queues the rest', async () => {
    const slots = new Semaphore(2);
    const a = await slots.acquire();
    await slots.acquire();
    let third = false;
    void slots.acquire().then(() => (third = true));
    await tick();
    assert.equal(third, false);
    assert.deepEqual([slots.inUse, slots.waiting], [2, 1]);
    a();
    await tick();
    assert.equal(third, true);
    assert.deepEqual([slots.inUse, slots.waiting], [2, 0]);
  });

  it('serves waiters in arrival order', async () => {
    const slots = new Semaphore(1);
    const first = await slots.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3, 4].map((n) =>
      slots.acquire().then((release) => {
        order.push(n);
        release();
      }),
    );
    first();
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2, 3, 4]);
    assert.equal(slots.inUse, 0);
  });

  it('never lets a newcomer overtake a queued waiter when a slot frees up', async () => {
    const slots = new Semaphore(1);
    const first = await slots.acquire();
    const order: string[] = [];
    const queued = slots.acquire().then((release) => {
      order.push('queued');
      release();
    });
    first();
    // Arrives after the release but before the queued waiter ran.
    const late = slots.acquire().then((release) => {
      order.push('late');
      release();
    });
    await Promise.all([queued, late]);
    assert.deepEqual(order, ['queued', 'late']);
  });

  it('an aborted waiter leaves the queue with the signal reason and the next one is served', async () => {
    const slots = new Semaphore(1);
    const held = await slots.acquire();
    const controller = new AbortController();
    const aborted = slots.acquire(controller.signal);
    let nextGranted = false;
    const next = slots.acquire().then((release) => {
      nextGranted = true;
      release();
    });
    controller.abort(new Error('job cancelled'));
    await assert.rejects(aborted, /job cancelled/);
    assert.equal(slots.waiting, 1);
    held();
    await next;
    assert.equal(nextGranted, true);
    assert.equal(slots.inUse, 0);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const slots = new Semaphore(1);
    await assert.rejects(slots.acquire(AbortSignal.abort(new Error('gone'))), /gone/);
    assert.equal(slots.inUse, 0);
  });

  it('releasing twice frees one slot only', async () => {
    const slots = new Semaphore(1);
    const release = await slots.acquire();
    release();
    release();
    assert.equal(slots.inUse, 0);
    await slots.acquire();
    assert.equal(slots.inUse, 1);
  });

  it('refuses a limit below 1', () => {
    assert.throws(() => new Semaphore(0), RangeError);
  });
});
