import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { Breaker, BreakerOpenError, type BreakerState } from './breaker';

function quietLogger() {
  const lines: { obj: object; msg?: string }[] = [];
  const at = (obj: object, msg?: string) => void lines.push({ obj, msg });
  return { lines, info: at, warn: at };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return value?.value;
}

const fail = () => Promise.reject(new Error('broker down'));
const ok = () => Promise.resolve('ok');

function makeBreaker(overrides: Partial<ConstructorParameters<typeof Breaker>[0]> = {}) {
  const registry = new Registry();
  const logger = quietLogger();
  const breaker = new Breaker({
    name: 'test',
    registry,
    logger,
    minimumCalls: 3,
    failureThresholdPercent: 50,
    resetTimeoutMs: 60,
    ...overrides,
  });
  return { breaker, registry, logger };
}

describe('Breaker', () => {
  it('stays closed below the minimum number of calls', async () => {
    const { breaker } = makeBreaker();
    await assert.rejects(breaker.run(fail));
    await assert.rejects(breaker.run(fail));
    assert.equal(breaker.state, 'closed');
    breaker.shutdown();
  });

  it('opens at the threshold, fails fast, probes once half-open, and closes on success', async () => {
    const { breaker, registry, logger } = makeBreaker();
    const states: BreakerState[] = [];
    breaker.onStateChange((s) => states.push(s));
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.run(fail), /broker down/);
    assert.equal(breaker.state, 'open');
    assert.equal(await metricValue(registry, 'circuit_breaker_state', { breaker: 'test' }), 2);

    let called = false;
    await assert.rejects(
      breaker.run(async () => {
        called = true;
      }),
      (error: unknown) => error instanceof BreakerOpenError && error.code === 'BREAKER_OPEN',
    );
    assert.equal(called, false, 'an open breaker must not call the dependency');

    await sleep(100);
    assert.equal(breaker.state, 'half-open');
    assert.equal(await metricValue(registry, 'circuit_breaker_state', { breaker: 'test' }), 1);
    assert.equal(await breaker.run(ok), 'ok');
    assert.equal(breaker.state, 'closed');
    assert.equal(await metricValue(registry, 'circuit_breaker_state', { breaker: 'test' }), 0);
    assert.deepEqual(states, ['open', 'half-open', 'closed']);
    assert.equal(await metricValue(registry, 'circuit_breaker_transitions_total', { to: 'open' }), 1);
    assert.equal(await metricValue(registry, 'circuit_breaker_calls_total', { result: 'rejected' }), 1);
    assert.ok(
      logger.lines.some((l) => /opened/.test(l.msg ?? '')),
      'opening is logged',
    );
    breaker.shutdown();
  });

  it('a failed probe opens the breaker again', async () => {
    const { breaker } = makeBreaker();
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.run(fail));
    await sleep(100);
    assert.equal(breaker.state, 'half-open');
    await assert.rejects(breaker.run(fail), /broker down/);
    assert.equal(breaker.state, 'open');
    breaker.shutdown();
  });

  it('errors that isFailure rejects pass through without opening the breaker', async () => {
    const { breaker } = makeBreaker({ isFailure: (e) => !(e instanceof RangeError) });
    for (let i = 0; i < 6; i++) {
      await assert.rejects(
        breaker.run(() => Promise.reject(new RangeError('record too large'))),
        RangeError,
      );
    }
    assert.equal(breaker.state, 'closed');
    breaker.shutdown();
  });

  it('counts a call slower than callTimeoutMs as failed', async () => {
    const { breaker } = makeBreaker({ callTimeoutMs: 20, minimumCalls: 1 });
    await assert.rejects(
      breaker.run(() => sleep(200)),
      /Timed out/,
    );
    assert.equal(breaker.state, 'open');
    breaker.shutdown();
  });
});
