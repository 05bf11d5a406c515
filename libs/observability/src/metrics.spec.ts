import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter } from 'prom-client';
import { createMetricsRegistry } from './metrics';

describe('createMetricsRegistry', () => {
  test('metrics registered on it carry the service label, and registries do not share metrics', async () => {
    const a = createMetricsRegistry({ serviceName: 'svc-a', collectDefaultMetrics: false });
    const b = createMetricsRegistry({ serviceName: 'svc-b', collectDefaultMetrics: false });
    new Counter({ name: 'jobs_total', help: 'jobs', registers: [a] }).inc(3);
    new Counter({ name: 'jobs_total', help: 'jobs', registers: [b] }).inc();
    assert.match(await a.metrics(), /^jobs_total\{service="svc-a"\} 3$/m);
    assert.match(await b.metrics(), /^jobs_total\{service="svc-b"\} 1$/m);
  });

  test('when default metrics are turned off, only the caller metrics are exposed', async () => {
    const registry = createMetricsRegistry({ serviceName: 'svc', collectDefaultMetrics: false });
    assert.equal(await registry.metrics(), '\n');
    const withDefaults = createMetricsRegistry({ serviceName: 'svc' });
    assert.match(await withDefaults.metrics(), /^process_resident_memory_bytes\{service="svc"\}/m);
  });

  test('no process gauge is named like a counter (promtool check metrics); the per-type ones stay', async () => {
    const text = await createMetricsRegistry({ serviceName: 'svc' }).metrics();
    const gauges = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]!);
    assert.deepEqual(
      gauges.filter((name) => name.endsWith('_total')),
      [],
    );
    assert.ok(gauges.includes('nodejs_active_handles'), gauges.join(', '));
  });
});
