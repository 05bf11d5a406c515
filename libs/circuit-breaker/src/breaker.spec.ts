import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { Breaker, BreakerOpenError, type BreakerState } from './breaker';
import { breakersOf, onBreakerBuilt } from './registry';

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

  describe('operator overrides', () => {
    it('forced open, every call fails fast and no probe goes through after resetTimeoutMs', async () => {
      const { breaker, registry, logger } = makeBreaker();
      const states: BreakerState[] = [];
      breaker.onStateChange((s) => states.push(s));
      breaker.forceOpen('broker maintenance');
      assert.equal(breaker.state, 'open');
      assert.equal(breaker.allowsCalls, false);
      assert.equal(breaker.override?.mode, 'open');
      assert.equal(breaker.override?.reason, 'broker maintenance');
      assert.equal(await metricValue(registry, 'circuit_breaker_forced', { breaker: 'test' }), 2);
      assert.equal(await metricValue(registry, 'circuit_breaker_state', { breaker: 'test' }), 2);

      await sleep(150); // past resetTimeoutMs (60): an unforced breaker would be half-open by now
      let called = 0;
      for (let i = 0; i < 3; i++) {
        await assert.rejects(
          breaker.run(async () => void called++),
          (error: unknown) => error instanceof BreakerOpenError,
        );
      }
      assert.equal(called, 0, 'a forced-open breaker must not call the dependency, not even a probe');
      assert.equal(breaker.state, 'open');
      assert.deepEqual(states, ['open'], 'no half-open while forced');
      assert.equal(breaker.counts.rejections, 3);
      assert.equal(await metricValue(registry, 'circuit_breaker_calls_total', { result: 'rejected' }), 3);
      assert.ok(logger.lines.some((l) => /forced open by an operator: broker maintenance/.test(l.msg ?? '')));
      breaker.shutdown();
    });

    it('forced closed, failures above the threshold reach the caller but never open it', async () => {
      const { breaker, registry } = makeBreaker();
      breaker.forceClose('errors are known and harmless');
      let called = 0;
      for (let i = 0; i < 8; i++) {
        await assert.rejects(
          breaker.run(() => {
            called++;
            return fail();
          }),
          /broker down/,
        );
      }
      assert.equal(called, 8);
      assert.equal(breaker.state, 'closed');
      assert.equal(breaker.allowsCalls, true);
      assert.equal(breaker.counts.failures, 8);
      assert.equal(await metricValue(registry, 'circuit_breaker_forced', { breaker: 'test' }), 1);
      assert.equal(await metricValue(registry, 'circuit_breaker_state', { breaker: 'test' }), 0);
      assert.equal(
        await metricValue(registry, 'circuit_breaker_transitions_total', { to: 'open' }),
        undefined,
      );
      breaker.shutdown();
    });

    it('forcing an open breaker closed lets the next call through at once', async () => {
      const { breaker } = makeBreaker({ resetTimeoutMs: 60_000 });
      for (let i = 0; i < 3; i++) await assert.rejects(breaker.run(fail));
      assert.equal(breaker.state, 'open');
      breaker.forceClose('dependency fixed');
      assert.equal(breaker.state, 'closed');
      assert.equal(await breaker.run(ok), 'ok');
      breaker.shutdown();
    });

    it('reset releases a forced-open breaker: closed, calls through, forced back to 0', async () => {
      const { breaker, registry } = makeBreaker();
      const states: BreakerState[] = [];
      breaker.onStateChange((s) => states.push(s));
      breaker.forceOpen('maintenance');
      breaker.reset();
      assert.equal(breaker.override, undefined);
      assert.equal(breaker.state, 'closed');
      assert.equal(await breaker.run(ok), 'ok');
      assert.deepEqual(states, ['open', 'closed']);
      assert.equal(await metricValue(registry, 'circuit_breaker_forced', { breaker: 'test' }), 0);
      assert.equal(await metricValue(registry, 'circuit_breaker_state', { breaker: 'test' }), 0);
      breaker.shutdown();
    });

    it('reset closes a breaker the failure rate opened, before its reset timeout', async () => {
      const { breaker } = makeBreaker({ resetTimeoutMs: 60_000 });
      for (let i = 0; i < 3; i++) await assert.rejects(breaker.run(fail));
      assert.equal(breaker.state, 'open');
      breaker.reset();
      assert.equal(breaker.state, 'closed');
      assert.equal(await breaker.run(ok), 'ok');
      breaker.shutdown();
    });

    it('a released forced-closed breaker judges the failure rate again', async () => {
      const { breaker } = makeBreaker();
      breaker.forceClose('harmless');
      breaker.reset();
      for (let i = 0; i < 3; i++) await assert.rejects(breaker.run(fail));
      assert.equal(breaker.state, 'open');
      breaker.shutdown();
    });

    it('applying the same override again changes nothing; another reason replaces it', () => {
      const { breaker, logger } = makeBreaker();
      const states: BreakerState[] = [];
      breaker.onStateChange((s) => states.push(s));
      breaker.forceOpen('maintenance');
      const since = breaker.override?.since;
      const logged = logger.lines.length;
      breaker.forceOpen('maintenance');
      assert.equal(logger.lines.length, logged, 'a repeated override is not logged again');
      assert.equal(breaker.override?.since, since);
      breaker.forceOpen('still maintenance');
      assert.equal(breaker.override?.reason, 'still maintenance');
      breaker.forceClose('done');
      assert.deepEqual(states, ['open', 'closed']);
      breaker.shutdown();
    });

    it('counts report the rolling window: successes, failures, rejections', async () => {
      const { breaker } = makeBreaker({ resetTimeoutMs: 60_000, windowMs: 5_000 });
      await breaker.run(ok);
      // 2 failures of 3 calls: above 50 % once the minimum of 3 is reached, so it opens.
      for (let i = 0; i < 2; i++) await assert.rejects(breaker.run(fail));
      for (let i = 0; i < 2; i++) await assert.rejects(breaker.run(ok), BreakerOpenError);
      assert.deepEqual(breaker.counts, {
        windowMs: 5_000,
        calls: 5,
        successes: 1,
        failures: 2,
        timeouts: 0,
        rejections: 2,
      });
      breaker.shutdown();
    });
  });

  describe('breakersOf', () => {
    it("lists the breakers built with a registry, not another registry's, until they shut down", () => {
      const registry = new Registry();
      const seen: string[] = [];
      const stop = onBreakerBuilt(registry, (b) => seen.push(b.name));
      const a = new Breaker({ name: 'a', registry, logger: quietLogger() });
      const b = new Breaker({ name: 'b', registry, logger: quietLogger() });
      const other = makeBreaker({ name: 'a' });
      assert.deepEqual(
        breakersOf(registry).map((x) => x.name),
        ['a', 'b'],
      );
      assert.deepEqual(seen, ['a', 'b']);
      a.shutdown();
      assert.deepEqual(
        breakersOf(registry).map((x) => x.name),
        ['b'],
      );
      stop();
      const c = new Breaker({ name: 'c', registry, logger: quietLogger() });
      assert.deepEqual(seen, ['a', 'b'], 'a watcher that stopped hears of no more breakers');
      for (const x of [b, c, other.breaker]) x.shutdown();
      assert.deepEqual(breakersOf(registry), []);
    });
  });
});
